import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { DataSource, QueryRunner } from 'typeorm';
import { createAppendOnlyRole } from './append-only.grants.js';
import { withAdminClient } from './database.admin.js';
import { createDataSource } from './data-source.factory.js';
import { resolveDatabase } from './database.resolver.js';
import { withDatabase } from './database-url.js';
import { createTestDatabase, type TestDatabase } from './test-database.factory.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;

describe('createAppendOnlyRole', () => {
  // Roles are cluster-wide, unlike the test database: a unique name keeps parallel runs apart.
  const role = `bt_ledger_writer_${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'append_only' });
    ds = createDataSource({ url: db.url, schema: 'audit', poolSize: 2 });
    await ds.initialize();
    await ds.query('CREATE SCHEMA audit');
    await ds.query('CREATE TABLE audit.ledger (seq bigserial PRIMARY KEY, body text NOT NULL)');
    await createAppendOnlyRole(ds, { role, table: 'audit.ledger' });
    // Idempotent: a second run (say, a re-applied migration) changes nothing and does not fail.
    await createAppendOnlyRole(ds, { role, table: 'ledger' });
  });

  afterAll(async () => {
    await ds.query(`DROP OWNED BY ${role}`);
    await ds.destroy();
    await db.drop();
    await withAdminClient(withDatabase(baseUrl, 'postgres'), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  });

  /** Runs `sql` as `as` (a role or the owner) in a transaction that is always rolled back. */
  async function attempt(sql: string, as?: string): Promise<void> {
    const runner: QueryRunner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      if (as) await runner.query(`SET LOCAL ROLE ${as}`);
      await runner.query(sql);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }

  it('lets the role insert (using the serial sequence) and read', async () => {
    await expect(attempt(`INSERT INTO audit.ledger (body) VALUES ('a')`, role)).resolves.toBeUndefined();
    await expect(attempt('SELECT * FROM audit.ledger', role)).resolves.toBeUndefined();
  });

  it.each(['UPDATE audit.ledger SET body = $$x$$', 'DELETE FROM audit.ledger', 'TRUNCATE audit.ledger'])(
    'denies the role by privilege: %s',
    async (sql) => {
      await expect(attempt(sql, role)).rejects.toThrow(/permission denied for table ledger/);
    },
  );

  it.each(['UPDATE audit.ledger SET body = $$x$$', 'DELETE FROM audit.ledger', 'TRUNCATE audit.ledger'])(
    'stops even the owner by trigger: %s',
    async (sql) => {
      await ds.query(`INSERT INTO audit.ledger (body) VALUES ('kept')`);
      await expect(attempt(sql)).rejects.toThrow(/table audit\.ledger is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed/);
    },
  );

  it('refuses a table that does not exist', async () => {
    await expect(createAppendOnlyRole(ds, { role, table: 'audit.missing' })).rejects.toThrow(/does not exist/);
  });
});
