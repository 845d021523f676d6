import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { streamCopyRows, type CopyField } from './copy-text.decoder.js';
import { resolveDatabase } from './database.resolver.js';
import { createTestDatabase, type TestDatabase } from './test-database.factory.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;

// PostgreSQL's own COPY TO output, not the encoder's: every value must read back as SELECT sees it.
const NASTY = [
  '',
  '\\N',
  '\\',
  'ends with a backslash\\',
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  'back\bspace, form\ffeed, vertical\vtab',
  'naïve café ✓ 日本語 🚨',
  '{"k": "v\\\\u0000"}',
  '\u0001\u001f\u007f',
  'x'.repeat(200_000),
];

describe('streamCopyRows', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'copy_rows' });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query('CREATE TABLE nasty (id int PRIMARY KEY, v text, j jsonb, b bytea)');
    for (const [i, v] of NASTY.entries())
      await pool.query('INSERT INTO nasty VALUES ($1, $2, $3, $4)', [i, v, JSON.stringify({ v }), Buffer.from(v, 'utf8')]);
    await pool.query('INSERT INTO nasty VALUES ($1, NULL, NULL, NULL)', [NASTY.length]);
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('reads text, jsonb and bytea exactly as PostgreSQL holds them, NULLs included', async () => {
    const read: CopyField[][] = [];
    for await (const rows of streamCopyRows(pool, `SELECT id, v, j, encode(b, 'hex') FROM nasty ORDER BY id`, { columns: 4 }))
      read.push(...rows);
    const expected = await pool.query<{ id: number; v: string | null; j: unknown; b: Buffer | null }>('SELECT * FROM nasty ORDER BY id');
    expect(read).toHaveLength(expected.rows.length);
    for (const [i, row] of read.entries()) {
      const want = expected.rows[i]!;
      expect(row[0]).toBe(String(want.id));
      expect(row[1]).toBe(want.v);
      expect(row[2] === null ? null : JSON.parse(row[2])).toEqual(want.j);
      expect(row[3] === null ? null : Buffer.from(row[3], 'hex')).toEqual(want.b);
    }
  });

  it('streams a large result in many batches and gives the connection back when the reader stops early', async () => {
    let rows = 0;
    let batches = 0;
    for await (const batch of streamCopyRows(pool, 'SELECT n, repeat(chr(92), n % 7) FROM generate_series(1, 200000) AS n ORDER BY n', {
      columns: 2,
    })) {
      rows += batch.length;
      batches++;
      expect(batch.every((r) => r[1] === '\\'.repeat(Number(r[0]) % 7))).toBe(true);
    }
    expect(rows).toBe(200_000);
    expect(batches).toBeGreaterThan(1);
    for (let i = 0; i < 3; i++) {
      for await (const batch of streamCopyRows(pool, 'SELECT n FROM generate_series(1, 1000000) AS n', { columns: 1 })) {
        expect(batch.length).toBeGreaterThan(0);
        break;
      }
    }
    // Both pooled connections are still usable (a stopped COPY's connection was discarded, not reused mid-copy).
    const r = await Promise.all([pool.query('SELECT 1 AS one'), pool.query('SELECT 2 AS two')]);
    expect(r.map((x) => x.rowCount)).toEqual([1, 1]);
  });

  it('fails on an error in the middle of the stream and on a column count that does not match', async () => {
    const drain = async (text: string, columns: number): Promise<number> => {
      let n = 0;
      for await (const batch of streamCopyRows(pool, text, { columns })) n += batch.length;
      return n;
    };
    await expect(drain('SELECT 1 / (50000 - n) FROM generate_series(1, 100000) AS n', 1)).rejects.toThrow('division by zero');
    await expect(drain('SELECT 1, 2', 1)).rejects.toThrow('more than 1 columns');
    expect((await pool.query('SELECT 1 AS one')).rowCount).toBe(1);
  });
});
