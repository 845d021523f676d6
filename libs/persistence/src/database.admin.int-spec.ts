import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabaseIfMissing, createSchemaIfMissing, dropDatabase, withAdminClient } from './database.admin.js';
import { DEFAULT_LOCAL_URL, ensureDatabase, resolveDatabase } from './database.resolver.js';
import { withDatabase } from './database-url.js';
import { createDataSource } from './data-source.factory.js';
import { createTestDatabase } from './test-database.factory.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;
const unique = (label: string): string => `bt_${label}_${randomBytes(5).toString('hex')}`;

async function databaseExists(name: string): Promise<boolean> {
  return withAdminClient(
    withDatabase(baseUrl, 'postgres'),
    async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
  );
}

async function localServerAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DEFAULT_LOCAL_URL, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
const itWithLocalServer = (await localServerAnswers()) ? it : it.skip;

describe('databases', () => {
  const created: string[] = [];
  afterAll(async () => {
    for (const name of created) await dropDatabase(baseUrl, name);
  });

  it('createDatabaseIfMissing is idempotent and survives concurrent creators', async () => {
    const name = unique('admin');
    created.push(name);
    const urls = await Promise.all([1, 2, 3].map(() => createDatabaseIfMissing(baseUrl, name)));
    expect(new Set(urls).size).toBe(1);
    expect(await createDatabaseIfMissing(baseUrl, name)).toBe(urls[0]);
    expect(await databaseExists(name)).toBe(true);
  });

  it('ensureDatabase creates the database DATABASE_URL names when it is missing', async () => {
    const name = unique('ensure');
    created.push(name);
    const resolved = await ensureDatabase({ env: { DATABASE_URL: withDatabase(baseUrl, name) } });
    expect(resolved.source).toBe('env');
    expect(await databaseExists(name)).toBe(true);
  });

  it('dropDatabase disconnects remaining sessions and is idempotent', async () => {
    const name = unique('drop');
    const url = await createDatabaseIfMissing(baseUrl, name);
    const straggler = new pg.Client({ connectionString: url });
    straggler.on('error', () => undefined); // its connection is terminated by the drop
    await straggler.connect();
    await dropDatabase(baseUrl, name);
    await dropDatabase(baseUrl, name);
    expect(await databaseExists(name)).toBe(false);
    await straggler.end().catch(() => undefined);
  });

  itWithLocalServer('resolves to the local server when it answers, creating the database there', async () => {
    const name = unique('local');
    const resolved = await resolveDatabase({ env: {}, database: name });
    try {
      expect(resolved.source).toBe('local');
      expect(resolved.url).toBe(`postgres://postgres@127.0.0.1:5432/${name}`);
      expect(resolved.detail).toBe('local server postgres://postgres@127.0.0.1:5432/postgres');
      await expect(withAdminClient(resolved.url, (c) => c.query('SELECT 1'))).resolves.toBeDefined();
    } finally {
      await dropDatabase(resolved.url, name);
    }
  });

  it('a forced local source that does not answer fails with the reason', async () => {
    await expect(
      resolveDatabase({ env: {}, force: 'local', localUrl: 'postgres://postgres@127.0.0.1:1/postgres', probeTimeoutMs: 500 }),
    ).rejects.toThrow(/Local PostgreSQL postgres:\/\/postgres@127\.0\.0\.1:1\/postgres did not answer: .*ECONNREFUSED/);
  });
});

describe('createTestDatabase', () => {
  it('gives each caller its own database and drops it', async () => {
    const [a, b] = await Promise.all([createTestDatabase({ baseUrl, label: 'iso' }), createTestDatabase({ baseUrl, label: 'iso' })]);
    try {
      expect(a.name).not.toBe(b.name);
      expect(a.name).toMatch(/^bt_iso_[a-z0-9]+_[0-9a-f]{8}$/);
      const ds = createDataSource({ url: a.url });
      await ds.initialize();
      await ds.query('CREATE TABLE only_in_a (x int)');
      await ds.destroy();
      const other = createDataSource({ url: b.url });
      await other.initialize();
      const [row] = (await other.query(`SELECT to_regclass('only_in_a') AS t`)) as Array<{ t: string | null }>;
      expect(row?.t).toBeNull();
      await other.destroy();
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
    expect(await databaseExists(a.name)).toBe(false);
    await expect(a.drop()).resolves.toBeUndefined();
  });
});

describe('schemas', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'schema' });
  });
  afterAll(async () => {
    await db.drop();
  });

  it('createSchemaIfMissing is idempotent', async () => {
    const ds = createDataSource({ url: db.url });
    await ds.initialize();
    try {
      await createSchemaIfMissing(ds, 'subscriber_fr_ncb');
      await createSchemaIfMissing(ds, 'subscriber_fr_ncb');
      const rows = (await ds.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'subscriber_fr_ncb'`)) as unknown[];
      expect(rows).toHaveLength(1);
      await expect(createSchemaIfMissing(ds, 'Bad Name')).rejects.toThrow(/Invalid schema name/);
    } finally {
      await ds.destroy();
    }
  });
});
