import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Producer } from 'kafkajs';
import pg from 'pg';
import { createLogger, HealthRegistry, MetricsService, startHttpService, type Logger } from '@backbone/bootstrap';
import {
  ConsumerSafety,
  createKafka,
  DEFAULT_CONSUMER_SAFETY,
  KafkaConfig,
  PARKING_SERVICES,
  topicNames,
  type ConsumerSafetySettings,
  type KafkaConnection,
} from '@backbone/kafka';
import { backboneHome } from '@backbone/persistence';
import type { AuditLoggerContext } from './audit-logger.context.js';
import { AuditLoggerModule } from './audit-logger.module.js';
import { AuditIngestConsumer } from './audit-ingest.consumer.js';
import { generateSigningKey, loadSigningKey, type SigningKey } from './checkpoint-signer.js';
import { appDatabaseUrl, appRolePassword, DEFAULT_APP_ROLE, migrateLedger } from './ledger.schema.js';
import { LedgerWriter } from './ledger.writer.js';

export interface StartAuditLoggerOptions {
  /** A connection (then `prefix` applies) or a full KafkaConfig (its own prefix). */
  kafka: KafkaConnection | KafkaConfig;
  /** Owner URL: migrations run as it; the service then connects as the app role. */
  databaseUrl: string;
  prefix?: string;
  port?: number;
  host?: string;
  /** Generated (PKCS#8 PEM Ed25519, mode 0600) when missing. Default .backbone/audit/signing-key.pem */
  signingKeyFile?: string;
  checkpointEveryRows?: number;
  checkpointEveryMs?: number;
  groupId?: string;
  appRole?: string;
  appPassword?: string | null;
  policiesDir?: string;
  logger?: Logger;
  /** Retry, parking and stall settings (CONSUMER_* in docs/operator.md); default: their defaults. */
  consumerSafety?: ConsumerSafetySettings;
}

export interface RunningAuditLogger {
  app: NestFastifyApplication;
  url: string;
  pool: pg.Pool;
  writer: LedgerWriter;
  consumer: AuditIngestConsumer;
  safety: ConsumerSafety;
  /** Where records the ledger can never store are parked. */
  parkedTopic: string;
  producer: Producer;
  signingKey: SigningKey;
  close(): Promise<void>;
}

export function defaultSigningKeyFile(): string {
  return join(backboneHome(), 'audit', 'signing-key.pem');
}

export function ensureSigningKey(path: string): SigningKey {
  return existsSync(path) ? loadSigningKey(path) : generateSigningKey(path);
}

/** Starts ingest, checkpoint timer and the compliance API; `close()` stops them in order. */
export async function startAuditLogger(opts: StartAuditLoggerOptions): Promise<RunningAuditLogger> {
  const logger = opts.logger ?? createLogger('audit-logger', process.env['LOG_LEVEL'] ?? 'warn');
  const config = opts.kafka instanceof KafkaConfig ? opts.kafka : KafkaConfig.of(opts.kafka, opts.prefix ?? '');
  const topics = topicNames(config.settings.KAFKA_TOPIC_PREFIX);
  const role = opts.appRole ?? DEFAULT_APP_ROLE;
  const password = appRolePassword(opts.appPassword);
  await migrateLedger({ ownerUrl: opts.databaseUrl, appRole: role, appPassword: password });
  const signingKey = ensureSigningKey(opts.signingKeyFile ?? defaultSigningKeyFile());

  // The service's own login: INSERT/SELECT on the ledger, nothing more.
  const pool = new pg.Pool({ connectionString: appDatabaseUrl(opts.databaseUrl, role, password), max: 8, application_name: 'audit-logger' });
  const cleanups: (() => Promise<unknown>)[] = [() => pool.end()];
  const closeAll = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
  };
  try {
    const writer = new LedgerWriter(pool, { signingKey, checkpointEveryRows: opts.checkpointEveryRows ?? 1000 });
    await writer.registerKey();
    const kafka = createKafka(config.connection, 'audit-logger', logger);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    cleanups.push(() => producer.disconnect());

    const timer = setInterval(() => {
      writer.checkpointNow().catch((err: unknown) => logger.error({ err }, 'checkpoint failed'));
    }, opts.checkpointEveryMs ?? 10_000);
    timer.unref();
    // Last step on close: sign whatever the ingest added since the last checkpoint.
    cleanups.push(async () => {
      clearInterval(timer);
      await writer.checkpointNow();
    });

    const context: AuditLoggerContext = {
      pool,
      producer,
      topics,
      trustedKeys: new Map([[signingKey.keyId, signingKey.publicKey]]),
      policiesDir: resolve(opts.policiesDir ?? process.env['POLICIES_DIR'] ?? 'policies'),
    };
    const app = await startHttpService({ module: AuditLoggerModule.forRoot({ logger, kafka: config, context }), logger, port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
    cleanups.push(() => app.close());
    // The ingest starts after the HTTP side, whose metrics and readiness registries it reports to.
    const groupId = opts.groupId ?? 'audit-logger';
    const parkedTopic = topics.parkedFor(PARKING_SERVICES.auditLogger);
    const safety = new ConsumerSafety({
      kafka,
      service: PARKING_SERVICES.auditLogger,
      groupId,
      topics: [topics.audit],
      parkedTopic,
      settings: opts.consumerSafety ?? DEFAULT_CONSUMER_SAFETY,
      logger,
      metrics: app.get(MetricsService),
      health: app.get(HealthRegistry),
      // The placeholder goes where the record would have: the consumer's current ledger topic label.
      afterPark: async (record, letter) => void (await writer.appendParked(consumer.ledgerTopic, record.partition, record.offset, record.value, letter)),
    });
    cleanups.push(() => safety.close());
    const consumer: AuditIngestConsumer = new AuditIngestConsumer(kafka, topics.audit, groupId, writer, logger, safety.guard, pool);
    // Closed first (cleanups run in reverse): the ingest stops before what it reports to.
    cleanups.push(() => consumer.stop());
    await consumer.start();
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    return { app, url, pool, writer, consumer, safety, parkedTopic, producer, signingKey, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
