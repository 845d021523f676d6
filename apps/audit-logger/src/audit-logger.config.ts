import { loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';

/**
 * Settings of the audit logger, validated at start-up (a bad value stops the service with the
 * setting named). Kafka settings are read separately by KafkaConfig.fromEnv.
 */
export const AUDIT_LOGGER_SETTINGS = {
  PORT: settings.port({ description: 'HTTP port of the compliance API, health and metrics', default: 8082 }),
  DATABASE_URL: settings.optionalString({
    description:
      'The append-only app role’s own connection (never the owner’s: `backbone audit migrate` provisions the role and schema); unset in development: the local server as AUDIT_DB_APP_ROLE',
    sensitive: true,
  }),
  AUDIT_SIGNING_KEY_FILE: settings.optionalString({ description: 'PEM PKCS#8 Ed25519 private key that signs ledger checkpoints' }),
  AUDIT_DB_APP_ROLE: settings.string({
    description: 'Login role the service connects as when DATABASE_URL is unset (development); `audit migrate` creates it',
    default: 'backbone_audit_app',
    pattern: /^[a-z_][a-z0-9_]{0,62}$/,
  }),
  AUDIT_DB_APP_PASSWORD: settings.optionalString({
    description:
      'Password of the app role when DATABASE_URL is unset (development); unset: the one `audit migrate` generated under .backbone/audit/',
    sensitive: true,
  }),
  CHECKPOINT_EVERY_ROWS: settings.int({
    description: 'Sign the chain head after this many new rows',
    default: 1000,
    min: 1,
    max: 10_000_000,
  }),
  CHECKPOINT_EVERY_MS: settings.int({
    description: 'Sign the chain head at least this often when rows were added (ms)',
    default: 10_000,
    min: 100,
    max: 86_400_000,
  }),
  EVENT_PUBLIC_KEYS_FILE: settings.optionalString({
    description: 'Public event keys of every principal (`backbone infra up`); unset: audit event signatures are not checked',
  }),
  AUDIT_ANCHOR_TOPIC: settings.bool({
    description: 'Publish every signed checkpoint to audit.checkpoints (anchors outside the database)',
    default: true,
  }),
  AUDIT_ANCHOR_FILE: settings.optionalString({
    description: 'Also append every signed checkpoint to this file (one JSON line each), e.g. on write-once storage',
  }),
  AUDIT_MAX_UNANCHORED_TAIL: settings.int({
    description: 'Verify fails when more ledger rows than this follow the latest anchored checkpoint',
    default: 100_000,
    min: 1,
    max: 1_000_000_000,
  }),
  AUDIT_CONSUMER_GROUP: settings.string({
    description: 'Kafka consumer group of the ingest',
    default: 'audit-logger',
    pattern: /^[A-Za-z0-9._-]+$/,
  }),
} as const;

export type AuditLoggerSettings = ConfigOf<typeof AUDIT_LOGGER_SETTINGS>;

export function loadAuditLoggerSettings(env: NodeJS.ProcessEnv = process.env): AuditLoggerSettings {
  return loadConfig(AUDIT_LOGGER_SETTINGS, env);
}
