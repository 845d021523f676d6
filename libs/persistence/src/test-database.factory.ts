import { randomBytes } from 'node:crypto';
import { createDatabaseIfMissing, dropDatabase } from './database.admin.js';
import { resolveDatabase, type ResolvedDatabase } from './database.resolver.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Drops the database, disconnecting stragglers. Idempotent. */
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database for one integration test file, so parallel Jest workers never
 * share tables. The server is DATABASE_URL's (set by the int global setup) or whatever
 * resolveDatabase() finds. Call drop() in afterAll.
 */
export async function createTestDatabase(options: { baseUrl?: string; label?: string } = {}): Promise<TestDatabase> {
  let resolved: ResolvedDatabase | undefined;
  const serverUrl = options.baseUrl ?? process.env.DATABASE_URL ?? (resolved = await resolveDatabase()).url;
  const label = (options.label ?? 'test')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 20);
  const name = `bt_${label}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  let url: string;
  try {
    url = await createDatabaseIfMissing(serverUrl, name);
  } catch (e) {
    if (resolved?.embedded?.owned) await resolved.stop();
    throw e;
  }
  let dropped: Promise<void> | undefined;
  return {
    name,
    url,
    drop: () =>
      // A server resolved here is left running: other test files in this process (or other
      // workers reusing the embedded cluster) may still need it; the embedded one stops at exit.
      (dropped ??= dropDatabase(serverUrl, name)),
  };
}
