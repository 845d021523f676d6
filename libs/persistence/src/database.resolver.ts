import pg from 'pg';
import { backboneHome } from '@backbone/workspace';
import { createDatabaseIfMissing, ensureDatabaseOf } from './database.admin.js';
import { parseDatabaseUrl, redactDatabaseUrl, withDatabase } from './database-url.js';
import { startEmbeddedPostgres } from './embedded-postgres.launcher.js';
import { assertIdentifier } from './sql-identifier.js';

export type DatabaseSource = 'env' | 'local' | 'embedded';

export interface ResolvedDatabase {
  readonly url: string;
  readonly source: DatabaseSource;
  /** Why this source was chosen, safe to log (no password). */
  readonly detail: string;
  /** Present for source 'embedded'. */
  readonly embedded?: {
    readonly dataDir: string;
    readonly port: number;
    /** False when the cluster was already running (another process started it). */
    readonly owned: boolean;
    readonly initdbMs: number;
    readonly startMs: number;
  };
  /** Stops the embedded server if this call started it; otherwise does nothing. */
  stop(): Promise<void>;
}

export interface ResolveDatabaseOptions {
  /** Where DATABASE_URL and BACKBONE_HOME are read from. Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Skip the search and use this source (tests force 'embedded' while a local server answers). */
  readonly force?: DatabaseSource;
  /** Database name on the local or embedded server. Default: `backbone`. Ignored for 'env'. */
  readonly database?: string;
  /** The local server to probe. Default: postgres://postgres@127.0.0.1:5432/postgres (trust auth). */
  readonly localUrl?: string;
  /** How long the local probe may take before we move on. Default 1500 ms. */
  readonly probeTimeoutMs?: number;
  /** BACKBONE_HOME override for the embedded data directory. */
  readonly home?: string;
  /** Bound on embedded initdb + start-up. Default 60 s. */
  readonly startTimeoutMs?: number;
  /** Receives embedded initdb/postgres output lines. */
  readonly onLog?: (line: string) => void;
}

export const DEFAULT_DATABASE = 'backbone';
export const DEFAULT_LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const noop = async (): Promise<void> => undefined;

/**
 * Finds a PostgreSQL server: DATABASE_URL when set; else the local server on 127.0.0.1:5432 when
 * it answers; else an embedded server under BACKBONE_HOME. On the local and embedded servers (ours
 * to administer) it also creates `options.database` if missing, so the URL is always usable; a
 * DATABASE_URL is taken as given — {@link ensureDatabase} also creates that one.
 */
export async function resolveDatabase(options: ResolveDatabaseOptions = {}): Promise<ResolvedDatabase> {
  const env = options.env ?? process.env;
  const database = assertIdentifier(options.database ?? DEFAULT_DATABASE, 'database name');
  const envUrl = env.DATABASE_URL?.trim();

  if (options.force === 'env' || (options.force === undefined && envUrl)) {
    if (!envUrl) throw new Error('Database source "env" was forced but DATABASE_URL is not set');
    parseDatabaseUrl(envUrl, 'DATABASE_URL');
    return { url: envUrl, source: 'env', detail: `DATABASE_URL ${redactDatabaseUrl(envUrl)}`, stop: noop };
  }

  const localUrl = options.localUrl ?? DEFAULT_LOCAL_URL;
  let localProblem = 'not probed (embedded forced)';
  if (options.force !== 'embedded') {
    const problem = await probe(localUrl, options.probeTimeoutMs ?? 1500);
    if (problem === undefined) {
      await createDatabaseIfMissing(localUrl, database);
      return {
        url: withDatabase(localUrl, database),
        source: 'local',
        detail: `local server ${redactDatabaseUrl(localUrl)}`,
        stop: noop,
      };
    }
    if (options.force === 'local') throw new Error(`Local PostgreSQL ${redactDatabaseUrl(localUrl)} did not answer: ${problem}`);
    localProblem = problem;
  }

  const home = options.home ?? backboneHome(env);
  const server = await startEmbeddedPostgres({
    home,
    ...(options.startTimeoutMs !== undefined && { startTimeoutMs: options.startTimeoutMs }),
    ...(options.onLog !== undefined && { onLog: options.onLog }),
  });
  const url = `postgres://${server.user}:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/${database}`;
  try {
    await createDatabaseIfMissing(url, database);
  } catch (e) {
    await server.stop();
    throw e;
  }
  const how = server.owned
    ? `started in ${server.timings.initdbMs + server.timings.startMs} ms (initdb ${server.timings.initdbMs} ms)`
    : 'already running, reused';
  return {
    url,
    source: 'embedded',
    detail: `embedded PostgreSQL in ${server.dataDir} on port ${server.port}, ${how}; local server: ${localProblem}`,
    embedded: { dataDir: server.dataDir, port: server.port, owned: server.owned, ...server.timings },
    stop: () => server.stop(),
  };
}

/**
 * {@link resolveDatabase}, and when the source is DATABASE_URL, also creates the database it names
 * if missing (dev and CI convenience; production databases are provisioned, not created here).
 */
export async function ensureDatabase(options: ResolveDatabaseOptions = {}): Promise<ResolvedDatabase> {
  const resolved = await resolveDatabase(options);
  if (resolved.source !== 'env') return resolved;
  try {
    await ensureDatabaseOf(resolved.url);
  } catch (e) {
    await resolved.stop();
    throw e;
  }
  return resolved;
}

/** undefined when the server answers SELECT 1, else why not. */
async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // A server that drops the connection after connect must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (e) {
    return (e as Error).message || String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}
