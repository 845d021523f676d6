import { describe, expect, it } from '@jest/globals';
import { createDataSource } from './data-source.factory.js';

describe('createDataSource', () => {
  const url = 'postgres://u@h/backbone';

  it('refuses synchronize outside tests', () => {
    expect(() => createDataSource({ url, synchronize: true, env: { NODE_ENV: 'production' } })).toThrow(/tests only/);
    expect(() => createDataSource({ url, synchronize: true, env: { NODE_ENV: 'test' } })).not.toThrow();
  });

  it('points entities, the migrations table and search_path at the service schema', () => {
    const ds = createDataSource({ url, schema: 'publisher', poolSize: 3 });
    expect(ds.options).toMatchObject({
      type: 'postgres',
      schema: 'publisher',
      synchronize: false,
      migrationsRun: false,
      migrationsTransactionMode: 'each',
      poolSize: 3,
      extra: { options: '-c search_path=publisher,public' },
    });
    expect(ds.isInitialized).toBe(false);
  });

  it('rejects an unsafe schema name and a malformed URL', () => {
    expect(() => createDataSource({ url, schema: 'x;drop table y' })).toThrow(/Invalid schema name/);
    expect(() => createDataSource({ url: 'nope' })).toThrow(/Invalid setting database URL/);
  });
});
