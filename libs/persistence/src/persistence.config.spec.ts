import { describe, expect, it } from '@jest/globals';
import { PERSISTENCE_SETTINGS, PersistenceConfig } from './persistence.config.js';

describe('PersistenceConfig.fromEnv', () => {
  it('applies defaults when nothing is set', () => {
    const config = PersistenceConfig.fromEnv({});
    expect(config).toMatchObject({ databaseUrl: undefined, poolSize: 10, connectTimeoutMs: 5000, schema: undefined, logging: false });
  });

  it('treats blank values as unset', () => {
    expect(PersistenceConfig.fromEnv({ DATABASE_URL: '  ', DATABASE_POOL_SIZE: '' }).databaseUrl).toBeUndefined();
  });

  it('reads every setting', () => {
    const config = PersistenceConfig.fromEnv({
      DATABASE_URL: 'postgresql://app:s3cret@db.example:6543/backbone?sslmode=require',
      DATABASE_POOL_SIZE: '25',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      DATABASE_SCHEMA: 'subscriber_fr_ncb',
      DATABASE_LOGGING: 'TRUE',
    });
    expect(config).toMatchObject({ poolSize: 25, connectTimeoutMs: 2000, schema: 'subscriber_fr_ncb', logging: true });
  });

  it('accepts a socket directory instead of a host', () => {
    expect(() => PersistenceConfig.fromEnv({ DATABASE_URL: 'postgres:///backbone?host=/var/run/postgresql' })).not.toThrow();
  });

  it.each([
    ['DATABASE_URL', 'not a url', /^Invalid setting DATABASE_URL: not a URL/],
    ['DATABASE_URL', 'mysql://u@h/db', /^Invalid setting DATABASE_URL: scheme must be postgres/],
    ['DATABASE_URL', 'postgres://u@h:5432/', /^Invalid setting DATABASE_URL: no database name/],
    ['DATABASE_URL', 'postgres://u@h:99999/db', /^Invalid setting DATABASE_URL: not a URL/],
    ['DATABASE_POOL_SIZE', 'abc', /^Invalid setting DATABASE_POOL_SIZE: expected an integer from 1 to 200, got "abc"$/],
    ['DATABASE_POOL_SIZE', '0', /^Invalid setting DATABASE_POOL_SIZE: /],
    ['DATABASE_POOL_SIZE', '201', /^Invalid setting DATABASE_POOL_SIZE: /],
    ['DATABASE_POOL_SIZE', '2.5', /^Invalid setting DATABASE_POOL_SIZE: /],
    ['DATABASE_CONNECT_TIMEOUT_MS', '-1', /^Invalid setting DATABASE_CONNECT_TIMEOUT_MS: /],
    ['DATABASE_SCHEMA', 'Public-Schema', /^Invalid setting DATABASE_SCHEMA: /],
    ['DATABASE_SCHEMA', 'x'.repeat(64), /^Invalid setting DATABASE_SCHEMA: /],
    ['DATABASE_LOGGING', 'yes', /^Invalid setting DATABASE_LOGGING: expected true or false/],
  ])('fails fast naming %s for %p', (name, value, message) => {
    expect(() => PersistenceConfig.fromEnv({ [name]: value })).toThrow(message);
  });

  it('never shows the password, in errors or in toJSON()', () => {
    let message = '';
    try {
      PersistenceConfig.fromEnv({ DATABASE_URL: 'mysql://app:hunter2@h/db' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('Invalid setting DATABASE_URL');
    expect(message).not.toContain('hunter2');
    const json = JSON.stringify(PersistenceConfig.fromEnv({ DATABASE_URL: 'postgres://app:hunter2@h/db' }));
    expect(json).not.toContain('hunter2');
    expect(json).toContain('postgres://app:***@h/db');
  });

  it('documents every setting it reads, flagging the URL as sensitive', () => {
    expect(PERSISTENCE_SETTINGS.map((s) => s.name)).toEqual([
      'DATABASE_URL',
      'DATABASE_POOL_SIZE',
      'DATABASE_CONNECT_TIMEOUT_MS',
      'DATABASE_SCHEMA',
      'DATABASE_LOGGING',
    ]);
    expect(PERSISTENCE_SETTINGS.find((s) => s.name === 'DATABASE_URL')?.sensitive).toBe(true);
  });
});
