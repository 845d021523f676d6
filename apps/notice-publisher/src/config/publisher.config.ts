import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, settings, type ConfigOf, ConfigError } from '@backbone/bootstrap';
import { parseIntrospectionClients } from '@backbone/office-auth';
import { defaultPoliciesDir } from '@backbone/workspace';

/** Everything notice-publisher reads from the environment besides KAFKA_* (KafkaConfig) and HOST/LOG_LEVEL. */
export const PUBLISHER_SETTINGS = {
  PORT: settings.port({ description: 'HTTP port of the liaison-office API (0 = any free port)', default: 8080 }),
  DATABASE_URL: settings.optionalString({
    description: 'postgres://user:password@host:port/database; unset: the local server, else an embedded one',
    sensitive: true,
  }),
  POLICIES_DIR: settings.string({
    description: 'Directory holding registry.yaml (the member-agency registry)',
    default: defaultPoliciesDir(),
  }),
  BODY_LIMIT_BYTES: settings.int({
    description: 'Largest accepted request body in bytes (larger: 413)',
    default: 256 * 1024,
    min: 1024,
    max: 16 * 1024 * 1024,
  }),
  PUBLISH_FLUSH_INTERVAL_MS: settings.int({
    description:
      'Group commit: how long a request that finds no transaction running waits for company; requests that queued during a transaction go in the next one as soon as it commits',
    default: 5,
    min: 0,
    max: 1000,
  }),
  PUBLISH_MAX_BATCH_RECORDS: settings.int({
    description: 'Group commit: records that trigger an immediate flush',
    default: 200,
    min: 1,
    max: 10_000,
  }),
  PUBLISH_LANES: settings.int({
    description:
      'Group commit: transactional producers committing side by side (ids <PUBLISH_TRANSACTIONAL_ID> and <PUBLISH_TRANSACTIONAL_ID>.<n>); a second one sends the next batch while the first commits',
    default: 2,
    min: 1,
    max: 8,
  }),
  PUBLISH_TRANSACTIONAL_ID: settings.string({
    description: 'Kafka transactional.id of this instance (unique per replica; the broker ACL grants the notice-publisher- prefix)',
    default: `notice-publisher-${randomUUID()}`,
    pattern: /^notice-publisher-[A-Za-z0-9._-]+$/,
  }),
  PUBLISH_TIMEOUT_MS: settings.int({
    description: 'Longest wait for Kafka to commit a request; past it the API answers 503 and the transaction can no longer commit',
    default: 4000,
    min: 500,
    max: 60_000,
  }),
  RETRY_AFTER_SECONDS: settings.int({ description: 'Retry-After sent with 503 when Kafka is unreachable', default: 5, min: 1, max: 3600 }),
  RECONCILE_INTERVAL_MS: settings.int({
    description:
      'How often the reconciler heals versions and Idempotency-Keys left pending by a crash or a failed database write (also at start-up)',
    default: 30_000,
    min: 100,
    max: 3_600_000,
  }),
  RECONCILE_SETTLE_MS: settings.int({
    description:
      'Age before a pending reservation is reconciled: a request may still be finishing it before then (at least PUBLISH_TIMEOUT_MS + 1 s is used)',
    default: 10_000,
    min: 0,
    max: 3_600_000,
  }),
  IDEMPOTENCY_RETENTION_HOURS: settings.int({
    description: 'How long an answered Idempotency-Key is remembered; a reuse after that is a new request',
    default: 72,
    min: 1,
    max: 24 * 365,
  }),
  INTROSPECTION_CLIENTS: settings.optionalString({
    description:
      'Services allowed to introspect office tokens (POST /auth/introspect): <service>=<SHA-256 hex of its token>,…; unset: the route refuses everyone',
  }),
} as const;

export type PublisherSettings = ConfigOf<typeof PUBLISHER_SETTINGS>;

export class PublisherConfig {
  private constructor(readonly settings: PublisherSettings) {}

  /** A pending reservation younger than this may still be finished by its request; never before its publish deadline. */
  get reconcileSettleMs(): number {
    return Math.max(this.settings.RECONCILE_SETTLE_MS, this.settings.PUBLISH_TIMEOUT_MS + 1000);
  }

  /** Validates every setting at start-up; a bad one stops the service with its name. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): PublisherConfig {
    const s = loadConfig(PUBLISHER_SETTINGS, env);
    if (!existsSync(join(s.POLICIES_DIR, 'registry.yaml'))) {
      throw new ConfigError([`POLICIES_DIR=${JSON.stringify(s.POLICIES_DIR)} has no registry.yaml`]);
    }
    parseIntrospectionClients(s.INTROSPECTION_CLIENTS);
    return new PublisherConfig(s);
  }

  /** For tests: defaults, overridden. */
  static of(overrides: Partial<PublisherSettings> = {}): PublisherConfig {
    return new PublisherConfig({ ...loadConfig(PUBLISHER_SETTINGS, {}), ...overrides });
  }
}
