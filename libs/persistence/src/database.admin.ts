import pg from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { databaseNameOf, parseDatabaseUrl, redactDatabaseUrl, withDatabase } from './database-url.js';
import { assertIdentifier, quoteIdentifier } from './sql-identifier.js';

const MAINTENANCE_DATABASE = 'postgres';
const UNDEFINED_DATABASE = '3D000';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/** One short-lived connection for administrative statements (CREATE/DROP DATABASE cannot run in a pool transaction). */
export async function withAdminClient<T>(url: string, work: (client: pg.Client) => Promise<T>, connectTimeoutMs = 5000): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs `work` on a connection to the server of `url`, preferring the URL's own database and falling
 * back to the maintenance database `postgres` when that one does not exist (yet).
 */
export async function withServerClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  try {
    return await withAdminClient(url, work);
  } catch (e) {
    if ((e as { code?: string }).code !== UNDEFINED_DATABASE) throw e;
    return withAdminClient(withDatabase(url, MAINTENANCE_DATABASE), work);
  }
}

/**
 * Creates database `name` on the server of `serverUrl` unless it exists; returns its URL.
 * Safe against a concurrent creator (the loser sees duplicate_database and carries on).
 */
export async function createDatabaseIfMissing(serverUrl: string, name: string): Promise<string> {
  parseDatabaseUrl(serverUrl, 'database URL');
  assertIdentifier(name, 'database name');
  const target = withDatabase(serverUrl, name);
  await withServerClient(serverUrl, async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      // 23505: two CREATE DATABASE racing on pg_database's unique index.
      if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw e;
    }
  });
  return target;
}

/** Drops database `name`, disconnecting anyone still connected (PostgreSQL 13+). */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  assertIdentifier(name, 'database name');
  const viaMaintenance = withDatabase(serverUrl, MAINTENANCE_DATABASE);
  // You cannot drop the database you are connected to; go through the maintenance database
  // unless it is the one being dropped.
  const adminUrl = name === MAINTENANCE_DATABASE ? serverUrl : viaMaintenance;
  await withAdminClient(adminUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`);
  });
}

/** ensureDatabase() for a URL: creates the URL's own database when it is missing. */
export async function ensureDatabaseOf(url: string): Promise<void> {
  const name = databaseNameOf(parseDatabaseUrl(url, 'database URL'));
  try {
    await withAdminClient(url, async () => undefined);
  } catch (e) {
    if ((e as { code?: string }).code !== UNDEFINED_DATABASE) {
      throw new Error(`Cannot connect to ${redactDatabaseUrl(url)}: ${(e as Error).message}`, { cause: e });
    }
    await createDatabaseIfMissing(url, name);
  }
}

type SqlTarget = DataSource | EntityManager | QueryRunner;

export async function createSchemaIfMissing(target: SqlTarget, schema: string): Promise<void> {
  await target.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(assertIdentifier(schema, 'schema name'))}`);
}

/**
 * The schema of a service, or of one agency's deployment of a service:
 * `schemaNameFor('agency-subscriber', 'FR-NCB')` is `agency_subscriber_fr_ncb`.
 */
export function schemaNameFor(service: string, agency?: string): string {
  const normalise = (s: string): string =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '');
  const name = [service, agency]
    .filter((p): p is string => p !== undefined)
    .map(normalise)
    .join('_');
  return assertIdentifier(/^[0-9]/.test(name) ? `s_${name}` : name, 'schema name');
}
