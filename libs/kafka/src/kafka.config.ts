import { readFileSync } from 'node:fs';
import { loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';
import type { EventSigningKey } from '@backbone/codec';
import type { ISocketFactory } from 'kafkajs';
import { readEventSigningKey } from './event-keys.files.js';

/** How a service reaches the broker: its own principal, TLS trust and topic prefix. */
export const KAFKA_SETTINGS = {
  KAFKA_BROKERS: settings.list({ description: 'Bootstrap brokers, host:port comma-separated', default: ['127.0.0.1:19092'] }),
  KAFKA_TLS: settings.bool({ description: 'Connect over TLS (the local broker requires it)', default: true }),
  KAFKA_CA_FILE: settings.optionalString({ description: 'PEM file of the CA that signed the broker certificates' }),
  KAFKA_SASL_MECHANISM: settings.oneOf(['scram-sha-512', 'scram-sha-256', 'plain', 'none'] as const, {
    description: 'SASL mechanism; none only for a broker without authentication',
    default: 'scram-sha-512',
  }),
  KAFKA_SASL_USERNAME: settings.optionalString({ description: "This service's Kafka principal" }),
  KAFKA_SASL_PASSWORD: settings.optionalString({ description: "The principal's password", sensitive: true }),
  KAFKA_TOPIC_PREFIX: settings.string({
    description: 'Prefix for every topic name (test isolation)',
    default: '',
    pattern: /^[A-Za-z0-9._-]*$/,
  }),
  EVENT_SIGNING_KEY_FILE: settings.optionalString({
    description: "This principal's event signing key (provisioned by `backbone infra up`); signs every audit event the service emits",
  }),
} as const;

export type KafkaSettings = ConfigOf<typeof KAFKA_SETTINGS>;

/** What `new Kafka()` needs to connect; also what @backbone/infra hands to tests. */
export interface KafkaConnection {
  brokers: string[];
  ssl?: { ca: string[]; rejectUnauthorized?: boolean } | boolean;
  sasl?: SaslCredentials;
  /** Tests only: how sockets to the brokers are opened (a TCP proxy plays "Kafka unreachable", @backbone/testing). */
  socketFactory?: ISocketFactory;
}

type SaslCredentials =
  | { mechanism: 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'scram-sha-256'; username: string; password: string }
  | { mechanism: 'plain'; username: string; password: string };

export class KafkaConfig {
  private constructor(
    readonly settings: KafkaSettings,
    readonly connection: KafkaConnection,
    /** Signs the audit events this principal emits; null: they go unsigned (and a checking audit logger parks them). */
    readonly eventSigner: EventSigningKey | null = null,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): KafkaConfig {
    const s = loadConfig(KAFKA_SETTINGS, env);
    const connection: KafkaConnection = { brokers: s.KAFKA_BROKERS };
    if (s.KAFKA_TLS) {
      if (s.KAFKA_CA_FILE) {
        try {
          connection.ssl = { ca: [readFileSync(s.KAFKA_CA_FILE, 'utf8')] };
        } catch (err) {
          throw new Error(`Invalid setting KAFKA_CA_FILE: cannot read ${s.KAFKA_CA_FILE}: ${(err as Error).message}`, { cause: err });
        }
      } else {
        connection.ssl = true;
      }
    }
    if (s.KAFKA_SASL_MECHANISM !== 'none') {
      if (!s.KAFKA_SASL_USERNAME || !s.KAFKA_SASL_PASSWORD) {
        throw new Error(
          `Invalid setting KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: both are required with KAFKA_SASL_MECHANISM=${s.KAFKA_SASL_MECHANISM}`,
        );
      }
      connection.sasl = {
        mechanism: s.KAFKA_SASL_MECHANISM,
        username: s.KAFKA_SASL_USERNAME,
        password: s.KAFKA_SASL_PASSWORD,
      } as SaslCredentials;
    }
    let signer: EventSigningKey | null = null;
    if (s.EVENT_SIGNING_KEY_FILE) {
      try {
        signer = readEventSigningKey(s.EVENT_SIGNING_KEY_FILE);
      } catch (err) {
        throw new Error(`Invalid setting EVENT_SIGNING_KEY_FILE: cannot read ${s.EVENT_SIGNING_KEY_FILE}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    return new KafkaConfig(s, connection, signer);
  }

  static of(connection: KafkaConnection, topicPrefix = '', eventSigner: EventSigningKey | null = null): KafkaConfig {
    return new KafkaConfig(
      {
        KAFKA_BROKERS: connection.brokers,
        KAFKA_TLS: Boolean(connection.ssl),
        KAFKA_CA_FILE: null,
        KAFKA_SASL_MECHANISM: connection.sasl?.mechanism ?? 'none',
        KAFKA_SASL_USERNAME: connection.sasl?.username ?? null,
        KAFKA_SASL_PASSWORD: connection.sasl?.password ?? null,
        KAFKA_TOPIC_PREFIX: topicPrefix,
        EVENT_SIGNING_KEY_FILE: null,
      },
      connection,
      eventSigner,
    );
  }
}
