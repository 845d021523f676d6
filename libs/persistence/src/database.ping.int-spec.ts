import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.factory.js';
import { pingDatabase } from './database.ping.js';
import { resolveDatabase } from './database.resolver.js';
import { withDatabase } from './database-url.js';

const baseUrl = process.env.DATABASE_URL ?? (await resolveDatabase()).url;

describe('pingDatabase', () => {
  let ds: DataSource;
  beforeAll(async () => {
    // The ping needs no tables, so the server's own database is enough.
    ds = createDataSource({ url: withDatabase(baseUrl, 'postgres'), poolSize: 1 });
    await ds.initialize();
  });
  afterAll(async () => {
    if (ds.isInitialized) await ds.destroy();
  });

  it('answers ok with a latency', async () => {
    const result = await pingDatabase(ds);
    expect(result.ok).toBe(true);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('times out instead of hanging when no connection is free', async () => {
    const holder = ds.createQueryRunner();
    await holder.connect(); // the pool's only connection
    try {
      const result = await pingDatabase(ds, 200);
      expect(result).toMatchObject({ ok: false, error: 'no answer within 200 ms' });
      expect(result.latencyMs).toBeGreaterThanOrEqual(190);
    } finally {
      await holder.release();
    }
    // The queued SELECT 1 goes through once the connection is back.
    expect((await pingDatabase(ds)).ok).toBe(true);
  });

  it('reports a data source that is not initialised', async () => {
    const closed = createDataSource({ url: baseUrl });
    expect(await pingDatabase(closed)).toEqual({ ok: false, latencyMs: 0, error: 'data source not initialised' });
  });

  it('reports an unreachable server without throwing', async () => {
    const unreachable = createDataSource({ url: 'postgres://postgres@127.0.0.1:1/postgres', connectTimeoutMs: 200 });
    await expect(unreachable.initialize()).rejects.toThrow();
    expect((await pingDatabase(unreachable)).ok).toBe(false);
  });
});
