import type { DataSource } from 'typeorm';
import { createDataSource, runMigrations, schemaNameFor } from '@backbone/persistence';
import { InboxSchema1767225600000 } from './inbox-schema.migration.js';

/** `agency_subscriber_fr_ncb`: one schema per agency, so agencies never share a table or a token. */
export function subscriberSchemaFor(agency: string): string {
  return schemaNameFor('agency-subscriber', agency);
}

/** Opens the agency's inbox database and brings its schema up to date. Used by the service and the CLI. */
export async function openSubscriberDatabase(url: string, agency: string, poolSize = 10): Promise<DataSource> {
  const dataSource = createDataSource({
    url,
    schema: subscriberSchemaFor(agency),
    migrations: [InboxSchema1767225600000],
    applicationName: `agency-subscriber:${agency}`,
    poolSize,
  });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } catch (err) {
    await dataSource.destroy().catch(() => undefined);
    throw err;
  }
  return dataSource;
}
