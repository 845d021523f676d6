import type { DataSource } from 'typeorm';
import { createDataSource, ensureDatabase, runMigrations, schemaNameFor } from '@backbone/persistence';
import { PublisherSchema1764000000000 } from './1764000000000-publisher-schema.migration.js';
import { PublisherReconcile1767500000000 } from './1767500000000-publisher-reconcile.migration.js';
import { PublisherKeyOwner1768000000000 } from './1768000000000-publisher-key-owner.migration.js';

export const PUBLISHER_SCHEMA = schemaNameFor('notice-publisher');
export const PUBLISHER_MIGRATIONS = [PublisherSchema1764000000000, PublisherReconcile1767500000000, PublisherKeyOwner1768000000000];

/** The database URL: the one given, else what @backbone/persistence finds (local server, else embedded). */
export async function publisherDatabaseUrl(given: string | null): Promise<string> {
  if (given) return given;
  const resolved = await ensureDatabase();
  return resolved.url;
}

/** An initialised DataSource on the publisher schema, migrations applied. */
export async function openPublisherDatabase(url: string, poolSize = 10): Promise<DataSource> {
  // runMigrations holds its advisory lock on one connection while migrating on another.
  const ds = createDataSource({
    url,
    schema: PUBLISHER_SCHEMA,
    migrations: PUBLISHER_MIGRATIONS,
    applicationName: 'notice-publisher',
    poolSize: Math.max(2, poolSize),
  });
  await ds.initialize();
  try {
    await runMigrations(ds);
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}
