import { parseDatabaseUrl, redactDatabaseUrl } from './database-url.js';
import { assertIdentifier } from './sql-identifier.js';

export interface PersistenceSetting {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  /** Sensitive values never appear in logs, errors or toJSON(). */
  readonly sensitive: boolean;
}

/** Every environment variable this lib reads, with its meaning; docs/persistence.md mirrors it. */
export const PERSISTENCE_SETTINGS: readonly PersistenceSetting[] = [
  {
    name: 'DATABASE_URL',
    description: 'postgres://user:password@host:port/database. Unset: the local server on 127.0.0.1:5432, else an embedded one.',
    sensitive: true,
  },
  { name: 'DATABASE_POOL_SIZE', description: 'Connections per process pool (integer 1-200).', default: '10', sensitive: false },
  {
    name: 'DATABASE_CONNECT_TIMEOUT_MS',
    description: 'How long to wait for a new connection before failing (integer 100-120000).',
    default: '5000',
    sensitive: false,
  },
  {
    name: 'DATABASE_SCHEMA',
    description: "The service's PostgreSQL schema; unset means the service's own default.",
    sensitive: false,
  },
  { name: 'DATABASE_LOGGING', description: 'Log every SQL statement (true/false).', default: 'false', sensitive: false },
];

const POOL_SIZE = { min: 1, max: 200 };
const CONNECT_TIMEOUT_MS = { min: 100, max: 120_000 };

/**
 * Validated database settings, built once at start-up so that a bad value stops the service
 * with the setting named instead of surfacing later as a connection error.
 */
export class PersistenceConfig {
  private constructor(
    /** Undefined: let resolveDatabase() find a server. */
    readonly databaseUrl: string | undefined,
    readonly poolSize: number,
    readonly connectTimeoutMs: number,
    readonly schema: string | undefined,
    readonly logging: boolean,
  ) {}

  static fromEnv(env: Readonly<Record<string, string | undefined>> = process.env): PersistenceConfig {
    const rawUrl = nonEmpty(env.DATABASE_URL);
    if (rawUrl !== undefined) parseDatabaseUrl(rawUrl, 'DATABASE_URL');
    const rawSchema = nonEmpty(env.DATABASE_SCHEMA);
    if (rawSchema !== undefined) {
      try {
        assertIdentifier(rawSchema, 'schema');
      } catch (e) {
        throw new Error(`Invalid setting DATABASE_SCHEMA: ${(e as Error).message}`, { cause: e });
      }
    }
    return new PersistenceConfig(
      rawUrl,
      integerSetting(env, 'DATABASE_POOL_SIZE', 10, POOL_SIZE),
      integerSetting(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, CONNECT_TIMEOUT_MS),
      rawSchema,
      booleanSetting(env, 'DATABASE_LOGGING', false),
    );
  }

  /** Safe to log: the password is masked. */
  toJSON(): Record<string, unknown> {
    return {
      databaseUrl: this.databaseUrl === undefined ? undefined : redactDatabaseUrl(this.databaseUrl),
      poolSize: this.poolSize,
      connectTimeoutMs: this.connectTimeoutMs,
      schema: this.schema,
      logging: this.logging,
    };
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function integerSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  range: { min: number; max: number },
): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < range.min || Number(raw) > range.max) {
    throw new Error(`Invalid setting ${name}: expected an integer from ${range.min} to ${range.max}, got "${raw}"`);
  }
  return Number(raw);
}

function booleanSetting(env: Readonly<Record<string, string | undefined>>, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env[name])?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new Error(`Invalid setting ${name}: expected true or false, got "${raw}"`);
}
