import { describe, expect, it } from '@jest/globals';
import { resolveDatabase } from './database.resolver.js';

// Only the DATABASE_URL branch: it touches nothing. The local and embedded branches are int tests.
describe('resolveDatabase with DATABASE_URL', () => {
  it('uses it as given without connecting', async () => {
    const resolved = await resolveDatabase({ env: { DATABASE_URL: 'postgres://app:pw@db.invalid:5432/backbone' } });
    expect(resolved.source).toBe('env');
    expect(resolved.url).toBe('postgres://app:pw@db.invalid:5432/backbone');
    expect(resolved.detail).not.toContain('pw@');
    await expect(resolved.stop()).resolves.toBeUndefined();
  });

  it('rejects a malformed one naming the setting', async () => {
    await expect(resolveDatabase({ env: { DATABASE_URL: 'http://x/db' } })).rejects.toThrow(/^Invalid setting DATABASE_URL/);
  });

  it('refuses a forced env source without it', async () => {
    await expect(resolveDatabase({ env: {}, force: 'env' })).rejects.toThrow(/DATABASE_URL is not set/);
  });

  it('rejects a bad database name before doing anything', async () => {
    await expect(resolveDatabase({ env: {}, database: 'Bad-Name' })).rejects.toThrow(/Invalid database name/);
  });
});
