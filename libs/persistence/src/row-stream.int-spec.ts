import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { resolveDatabase } from './database.resolver.js';
import { streamRows } from './row-stream.js';
import { createTestDatabase, type TestDatabase } from './test-database.factory.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;

describe('streamRows', () => {
  let db: TestDatabase;
  let pool: pg.Pool;

  beforeAll(async () => {
    db = await createTestDatabase({ baseUrl, label: 'row_stream' });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });

  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  it('yields every row once, in order, in batches no larger than asked', async () => {
    const seen: number[] = [];
    let largest = 0;
    for await (const batch of streamRows<{ n: number }>(pool, 'SELECT n FROM generate_series(1, $1::int) AS n ORDER BY n', [2345], {
      batchRows: 1000,
    })) {
      largest = Math.max(largest, batch.length);
      for (const r of batch) seen.push(r.n);
    }
    expect(largest).toBe(1000);
    expect(seen).toEqual(Array.from({ length: 2345 }, (_, i) => i + 1));
  });

  it('gives the connection back when the consumer stops early, with a fetch still in flight', async () => {
    for (let i = 0; i < 3; i++) {
      for await (const batch of streamRows<{ n: number }>(pool, 'SELECT n FROM generate_series(1, 100000) AS n', [], { batchRows: 10 })) {
        expect(batch).toHaveLength(10);
        break;
      }
    }
    // More stops than the pool has connections: none was kept.
    expect(pool.waitingCount).toBe(0);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
  });

  it('throws a failure of a later fetch to the consumer and keeps the pool usable', async () => {
    let rows = 0;
    const run = async (): Promise<void> => {
      for await (const batch of streamRows<{ x: number }>(pool, 'SELECT 1 / (500 - n) AS x FROM generate_series(1, 1000) AS n', [], {
        batchRows: 100,
      }))
        rows += batch.length;
    };
    await expect(run()).rejects.toMatchObject({ code: '22012' });
    expect(rows).toBeLessThan(500);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
  });
});
