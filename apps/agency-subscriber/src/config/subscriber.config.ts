import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';

/** Agency codes look like FR-NCB; the registry is the authority when POLICIES_DIR is given. */
export const AGENCY_CODE_PATTERN = /^[A-Z]{2}-[A-Z0-9]{2,10}$/;

export const SUBSCRIBER_SETTINGS = {
  AGENCY_CODE: settings.string({
    description: 'The one agency whose feed and inbox this deployment serves, e.g. FR-NCB',
    pattern: AGENCY_CODE_PATTERN,
  }),
  HOST: settings.string({ description: 'Interface the HTTP server binds to', default: '127.0.0.1' }),
  PORT: settings.port({ description: 'HTTP port of the desk API, health and metrics', default: 8100 }),
  LOG_LEVEL: settings.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    description: 'Lowest log level written',
    default: 'info',
  }),
  DATABASE_URL: settings.optionalString({
    description: 'PostgreSQL URL; the inbox lives in schema agency_subscriber_<agency>. Unset: the local or embedded server',
    sensitive: true,
  }),
  POLICIES_DIR: settings.optionalString({
    description: 'Directory holding registry.yaml; when set, AGENCY_CODE must be one of its agencies',
  }),
  RETENTION_DAYS: settings.int({
    description: 'Alerts older than this many days are purged (content removed, tombstone kept)',
    default: 90,
    min: 1,
    max: 36500,
  }),
  PURGE_INTERVAL_MS: settings.int({ description: 'How often the retention purge runs (0 = never on a timer)', default: 3_600_000, min: 0 }),
  STREAM_MAX_PER_DESK: settings.int({
    description: 'Concurrent /stream connections one desk may hold (one more: 429)',
    default: 4,
    min: 1,
    max: 1000,
  }),
  STREAM_REVALIDATE_MS: settings.int({
    description: "How often an open stream re-checks its desk's token (deleted desk, revoked token end it)",
    default: 2000,
    min: 100,
    max: 60_000,
  }),
  ADMIN_TOKEN_HASH: settings.optionalString({
    description:
      'SHA-256 (hex) of the agency-admin bearer token allowed to manage desks over HTTP; unset = desk management only through the CLI',
    sensitive: true,
  }),
} as const;

export type SubscriberSettings = ConfigOf<typeof SUBSCRIBER_SETTINGS>;

/** Reads and validates the subscriber's own settings (Kafka settings are read by KafkaConfig.fromEnv). */
export function loadSubscriberConfig(env: NodeJS.ProcessEnv = process.env): SubscriberSettings {
  const config = loadConfig(SUBSCRIBER_SETTINGS, env);
  if (config.POLICIES_DIR) assertRegisteredAgency(config.AGENCY_CODE, config.POLICIES_DIR);
  if (config.ADMIN_TOKEN_HASH && !/^[0-9a-f]{64}$/.test(config.ADMIN_TOKEN_HASH)) {
    throw new ConfigError(['ADMIN_TOKEN_HASH=<redacted> must be 64 lowercase hex characters (hashToken of the admin token)']);
  }
  return config;
}

/** The agency codes of policies/registry.yaml; read directly so the subscriber does not need the policy engine. */
export function registeredAgencies(policiesDir: string): string[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(join(policiesDir, 'registry.yaml'), 'utf8'));
  } catch (err) {
    throw new ConfigError([`POLICIES_DIR=${JSON.stringify(policiesDir)} has no readable registry.yaml: ${(err as Error).message}`]);
  }
  const agencies = (doc as { agencies?: unknown } | null)?.agencies;
  if (!Array.isArray(agencies)) throw new ConfigError([`POLICIES_DIR=${JSON.stringify(policiesDir)}: registry.yaml has no agencies list`]);
  return agencies.map((a) => (a as { code?: unknown }).code).filter((c): c is string => typeof c === 'string');
}

export function assertRegisteredAgency(agency: string, policiesDir: string): void {
  const codes = registeredAgencies(policiesDir);
  if (!codes.includes(agency)) {
    throw new ConfigError([`AGENCY_CODE=${JSON.stringify(agency)} is not an agency of ${join(policiesDir, 'registry.yaml')}`]);
  }
}
