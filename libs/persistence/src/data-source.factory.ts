import { DataSource, type LoggerOptions } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { createSchemaIfMissing } from './database.admin.js';
import { parseDatabaseUrl } from './database-url.js';
import { assertIdentifier } from './sql-identifier.js';

export interface CreateDataSourceOptions {
  readonly url: string;
  /** The service's schema: entities, the migrations table and unqualified SQL all land there. */
  readonly schema?: string;
  /** Entity classes (not globs: ts-jest and the build place files differently). */
  readonly entities?: PostgresDataSourceOptions['entities'];
  /** Migration classes, in any order; TypeORM orders them by the timestamp in their name. */
  readonly migrations?: PostgresDataSourceOptions['migrations'];
  readonly migrationsTableName?: string;
  readonly logging?: LoggerOptions;
  readonly poolSize?: number;
  readonly connectTimeoutMs?: number;
  /** Shows in pg_stat_activity; name it after the service. */
  readonly applicationName?: string;
  /**
   * Derive tables from entities on start-up. Tests only: it can drop columns, and skips the
   * migrations that production runs, so it is refused unless NODE_ENV is "test".
   */
  readonly synchronize?: boolean;
  /** Where NODE_ENV is read from for the synchronize guard. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A PostgreSQL DataSource, not yet initialised (call `initialize()`, then {@link runMigrations}). */
export function createDataSource(options: CreateDataSourceOptions): DataSource {
  parseDatabaseUrl(options.url, 'database URL');
  const env = options.env ?? process.env;
  if (options.synchronize && env.NODE_ENV !== 'test') {
    throw new Error('synchronize is for tests only (NODE_ENV=test); services change their schema through migrations');
  }
  const schema = options.schema === undefined ? undefined : assertIdentifier(options.schema, 'schema name');
  const dataSourceOptions: PostgresDataSourceOptions = {
    type: 'postgres',
    url: options.url,
    ...(schema !== undefined && { schema }),
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: options.migrationsTableName ?? 'migrations',
    // One transaction per migration: a failure leaves the earlier ones applied and recorded.
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: options.synchronize ?? false,
    logging: options.logging ?? false,
    poolSize: options.poolSize ?? 10,
    connectTimeoutMS: options.connectTimeoutMs ?? 5000,
    ...(options.applicationName !== undefined && { applicationName: options.applicationName }),
    // search_path on every pooled connection, so raw SQL in migrations and repositories
    // resolves unqualified names in the service schema first.
    ...(schema !== undefined && { extra: { options: `-c search_path=${schema},public` } }),
  };
  return new DataSource(dataSourceOptions);
}

/**
 * Creates the service schema if needed, then runs pending migrations, each in its own transaction,
 * recording them in `<schema>.migrations`. Concurrent callers (several replicas starting at once)
 * are serialised with an advisory lock. Returns the names of the migrations it ran.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  const schema = (dataSource.options as PostgresDataSourceOptions).schema;
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  const key = `backbone:migrations:${schema ?? 'public'}`;
  try {
    await lock.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    if (schema !== undefined) await createSchemaIfMissing(dataSource, schema);
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [key]).catch(() => undefined);
    await lock.release();
  }
}
