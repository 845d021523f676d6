import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, settings, type ConfigOf, ConfigError } from '@backbone/bootstrap';
import { defaultPoliciesDir } from '@backbone/workspace';

/** Everything notice-publisher reads from the environment besides KAFKA_* (KafkaConfig) and HOST/LOG_LEVEL. */
export const PUBLISHER_SETTINGS = {
  PORT: settings.port({ description: 'HTTP port of the liaison-office API (0 = any free port)', default: 8080 }),
  DATABASE_URL: settings.optionalString({
    description: 'postgres://user:password@host:port/database; unset: the local server, else an embedded one',
    sensitive: true,
  }),
  POLICIES_DIR: settings.string({ description: 'Directory holding registry.yaml (the member-agency registry)', default: defaultPoliciesDir() }),
  BODY_LIMIT_BYTES: settings.int({ description: 'Largest accepted request body in bytes (larger: 413)', default: 256 * 1024, min: 1024, max: 16 * 1024 * 1024 }),
  PUBLISH_FLUSH_INTERVAL_MS: settings.int({ description: 'Group commit: how long a batch waits for more records', default: 5, min: 0, max: 1000 }),
  PUBLISH_MAX_BATCH_RECORDS: settings.int({ description: 'Group commit: records that trigger an immediate flush', default: 200, min: 1, max: 10_000 }),
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
} as const;

export type PublisherSettings = ConfigOf<typeof PUBLISHER_SETTINGS>;

export class PublisherConfig {
  private constructor(readonly settings: PublisherSettings) {}

  /** Validates every setting at start-up; a bad one stops the service with its name. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): PublisherConfig {
    const s = loadConfig(PUBLISHER_SETTINGS, env);
    if (!existsSync(join(s.POLICIES_DIR, 'registry.yaml'))) {
      throw new ConfigError([`POLICIES_DIR=${JSON.stringify(s.POLICIES_DIR)} has no registry.yaml`]);
    }
    return new PublisherConfig(s);
  }

  /** For tests: defaults, overridden. */
  static of(overrides: Partial<PublisherSettings> = {}): PublisherConfig {
    return new PublisherConfig({ ...loadConfig(PUBLISHER_SETTINGS, {}), ...overrides });
  }
}
