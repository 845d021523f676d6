import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { buildInsertSql, insertChunked, MAX_BIND_PARAMETERS, rowsPerStatement } from './chunked-insert.js';
import { createDataSource } from './data-source.factory.js';
import { resolveDatabase } from './database.resolver.js';
import { createTestDatabase, type TestDatabase } from './test-database.factory.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;
const COLUMNS = ['id', 'agency', 'seq', 'payload'] as const;
const row = (i: number): unknown[] => [i, `AG-${i % 190}`, i * 2, JSON.stringify({ i })];

describe('insertChunked against PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'chunked' });
    ds = createDataSource({ url: db.url, schema: 'bulk', poolSize: 2 });
    await ds.initialize();
    await ds.query('CREATE SCHEMA bulk');
    await ds.query('CREATE TABLE bulk.item (id int PRIMARY KEY, agency text NOT NULL, seq bigint NOT NULL, payload jsonb NOT NULL)');
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('a single statement over 65,535 parameters is really refused (the limit is real)', async () => {
    const rows = rowsPerStatement(COLUMNS.length) + 1;
    const params = Array.from({ length: rows }, (_, i) => row(1_000_000 + i)).flat();
    expect(params.length).toBeGreaterThan(MAX_BIND_PARAMETERS);
    // The count wraps in the protocol's Int16, so the server sees a mismatched bind message.
    await expect(ds.query(buildInsertSql('bulk.item', COLUMNS, rows), params)).rejects.toThrow(/bind message supplies/);
  });

  it('splits 40,000 rows x 4 columns (160,000 parameters) into 3 statements, inside one transaction', async () => {
    const rows = Array.from({ length: 40_000 }, (_, i) => row(i));
    const result = await ds.transaction((manager) => insertChunked(manager, 'bulk.item', COLUMNS, rows));
    expect(result).toEqual({ inserted: 40_000, statements: 3 });
    const [count] = (await ds.query('SELECT count(*)::int AS n, sum(seq)::bigint AS s FROM bulk.item')) as Array<{ n: number; s: string }>;
    expect(count).toEqual({ n: 40_000, s: String(2 * ((39_999 * 40_000) / 2)) });
  });

  it('ON CONFLICT DO NOTHING skips existing rows and counts only new ones; object rows work', async () => {
    const rows = [
      { id: 39_999, agency: 'dup', seq: 0, payload: '{}' },
      { id: 50_000, agency: 'new', seq: 1, payload: '{"new":true}' },
    ];
    const result = await insertChunked(ds.manager, 'bulk.item', COLUMNS, rows, { onConflictDoNothing: ['id'] });
    expect(result).toEqual({ inserted: 1, statements: 1 });
    const [kept] = (await ds.query('SELECT agency FROM bulk.item WHERE id = 39999')) as Array<{ agency: string }>;
    expect(kept?.agency).toBe(`AG-${39_999 % 190}`);
  });

  it('rolls every chunk back with the caller transaction', async () => {
    const runner = ds.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const rows = Array.from({ length: 30 }, (_, i) => row(60_000 + i));
      // A tiny budget forces several statements through the same transaction.
      expect(await insertChunked(runner, 'bulk.item', COLUMNS, rows, { maxParameters: 40 })).toEqual({ inserted: 30, statements: 3 });
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    const [count] = (await ds.query('SELECT count(*)::int AS n FROM bulk.item WHERE id >= 60000')) as Array<{ n: number }>;
    expect(count?.n).toBe(0);
  });

  it('does nothing for no rows', async () => {
    expect(await insertChunked(ds.manager, 'bulk.item', COLUMNS, [])).toEqual({ inserted: 0, statements: 0 });
  });
});
