import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureDatabase, resolveDatabase, type ResolvedDatabase } from './database.resolver.js';

const isRoot = process.getuid?.() === 0;
const itAsRoot = isRoot ? it : it.skip;

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

// Forced even when the local server answers, so CI always exercises the fallback for real.
describe('embedded PostgreSQL', () => {
  let home: string;
  let first: ResolvedDatabase | undefined;

  beforeAll(() => {
    // mkdtemp makes a root-owned 0700 directory: exactly the case where the postgres OS user
    // cannot get in unless the launcher fixes BACKBONE_HOME's permissions.
    home = mkdtempSync(join(tmpdir(), 'backbone-embedded-'));
  });

  afterAll(async () => {
    await first?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('initialises, starts, creates the backbone database and requires the password', async () => {
    first = await resolveDatabase({ force: 'embedded', home, startTimeoutMs: 90_000 });
    expect(first.source).toBe('embedded');
    expect(first.embedded?.owned).toBe(true);
    expect(first.embedded?.initdbMs).toBeGreaterThan(0);
    expect(first.url).toMatch(/^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/backbone$/);
    expect(first.detail).not.toContain(new URL(first.url).password);
    const [row] = await query<{ db: string }>(first.url, 'SELECT current_database() AS db');
    expect(row?.db).toBe('backbone');

    const withoutPassword = new URL(first.url);
    withoutPassword.password = '';
    await expect(query(withoutPassword.toString(), 'SELECT 1')).rejects.toThrow(/password/i);
  }, 120_000);

  itAsRoot('runs as the postgres OS user, owning a 0700 data directory', () => {
    const dataDir = first?.embedded?.dataDir ?? '';
    const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const data = statSync(dataDir);
    expect(data.uid).toBe(pgUid);
    expect(data.mode & 0o777).toBe(0o700);
    expect(statSync(home).mode & 0o001).toBe(0o001);
    const postmasterOwner = statSync(join(dataDir, 'postmaster.pid')).uid;
    expect(postmasterOwner).toBe(pgUid);
  });

  it('is reused, not restarted, by a second resolve; the second stop() leaves it running', async () => {
    const second = await resolveDatabase({ force: 'embedded', home, startTimeoutMs: 30_000 });
    expect(second.embedded?.owned).toBe(false);
    expect(second.url).toBe(first?.url);
    await second.stop();
    await expect(query(first?.url ?? '', 'SELECT 1')).resolves.toHaveLength(1);
  }, 60_000);

  it('is the fallback when the local server does not answer', async () => {
    const fallback = await resolveDatabase({
      env: {},
      home,
      localUrl: 'postgres://postgres@127.0.0.1:1/postgres',
      probeTimeoutMs: 500,
    });
    expect(fallback.source).toBe('embedded');
    expect(fallback.detail).toMatch(/local server: .*ECONNREFUSED/);
    await fallback.stop();
  }, 60_000);

  it('restarts on the existing data directory without initdb after stop()', async () => {
    await first?.stop();
    await expect(query(first?.url ?? '', 'SELECT 1')).rejects.toThrow();
    first = await ensureDatabase({ force: 'embedded', home, startTimeoutMs: 60_000 });
    expect(first.embedded).toMatchObject({ owned: true, initdbMs: 0 });
    const [row] = await query<{ db: string }>(first.url, 'SELECT current_database() AS db');
    expect(row?.db).toBe('backbone');
  }, 90_000);

  it('concurrent starters on a fresh home start one cluster and share it', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'backbone-race-'));
    const both = await Promise.all([1, 2].map(() => resolveDatabase({ force: 'embedded', home: fresh, startTimeoutMs: 90_000 })));
    try {
      expect(both.map((r) => r.embedded?.owned).sort()).toEqual([false, true]);
      expect(both[0]?.url).toBe(both[1]?.url);
    } finally {
      for (const r of both) await r.stop();
      rmSync(fresh, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses initialised data whose password file is gone, rather than wiping it', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'backbone-broken-'));
    try {
      mkdirSync(join(broken, 'postgres', 'data'), { recursive: true });
      writeFileSync(join(broken, 'postgres', 'data', 'PG_VERSION'), '18\n');
      await expect(resolveDatabase({ force: 'embedded', home: broken })).rejects.toThrow(/has no password file/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });

  itAsRoot('refuses, naming the directory, a BACKBONE_HOME below a parent postgres cannot traverse', async () => {
    const closed = mkdtempSync(join(tmpdir(), 'backbone-closed-'));
    try {
      mkdirSync(join(closed, 'inner'));
      await expect(resolveDatabase({ force: 'embedded', home: join(closed, 'inner', 'home') })).rejects.toThrow(
        `Directory ${closed} is not traversable by OS user postgres`,
      );
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
