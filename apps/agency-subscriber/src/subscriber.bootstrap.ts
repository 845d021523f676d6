import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { createLogger, PinoNestLogger, ProblemDetailsFilter, type Logger } from '@backbone/bootstrap';
import {
  createKafka,
  DEFAULT_CONSUMER_SAFETY,
  KafkaConfig,
  PARKING_SERVICES,
  topicNames,
  type ConsumerSafetySettings,
  type KafkaConnection,
} from '@backbone/kafka';
import { AgencySubscriberModule } from './agency-subscriber.module.js';
import { AuditRelay } from './audit/audit.relay.js';
import { AGENCY_CODE_PATTERN } from './config/subscriber.config.js';
import { openSubscriberDatabase, subscriberSchemaFor } from './db/subscriber.database.js';
import { DeskStore } from './desks/desk.store.js';
import { InboxStore, type PurgeResult } from './inbox/inbox.store.js';
import { RetentionService } from './retention/retention.service.js';
import { InboxNotifier } from './stream/inbox.notifier.js';

export interface StartAgencySubscriberOptions {
  agency: string;
  /** The broker connection (its principal must be allowed to read the feed) or a ready KafkaConfig. */
  kafka: KafkaConfig | KafkaConnection;
  databaseUrl: string;
  /** Topic prefix (test isolation); overrides the KafkaConfig's own. */
  prefix?: string;
  /** Consumer group; default `<prefix>subscriber-<AGENCY>` (the group the broker ACL allows when the prefix is empty). */
  groupId?: string;
  port?: number;
  host?: string;
  retentionDays?: number;
  /** 0 = no timer (call purgeNow). */
  purgeIntervalMs?: number;
  /** SHA-256 of the agency-admin token for /desks; null = desk management through the CLI only. */
  adminTokenHash?: string | null;
  /** SSE keep-alive and re-check interval. */
  heartbeatMs?: number;
  logger?: Logger;
  /** Close on SIGTERM/SIGINT (the real service); off for in-process tests. */
  shutdownHooks?: boolean;
  /** Retry, parking and stall settings (CONSUMER_* in docs/operator.md); default: their defaults. */
  consumerSafety?: ConsumerSafetySettings;
}

export interface RunningAgencySubscriber {
  app: NestFastifyApplication;
  url: string;
  agency: string;
  feedTopic: string;
  parkedTopic: string;
  groupId: string;
  inbox: InboxStore;
  desks: DeskStore;
  relay: AuditRelay;
  purgeNow(now?: Date): Promise<PurgeResult>;
  close(): Promise<void>;
}

/** Starts one agency's subscriber in-process: inbox database, feed consumer, audit relay, desk API. */
export async function startAgencySubscriber(opts: StartAgencySubscriberOptions): Promise<RunningAgencySubscriber> {
  const agency = opts.agency;
  if (!AGENCY_CODE_PATTERN.test(agency)) throw new Error(`Invalid agency code ${JSON.stringify(agency)}`);
  const base = opts.kafka instanceof KafkaConfig ? opts.kafka : KafkaConfig.of(opts.kafka);
  const prefix = opts.prefix ?? base.settings.KAFKA_TOPIC_PREFIX;
  const kafka = KafkaConfig.of(base.connection, prefix);
  const topics = topicNames(prefix);
  const feedTopic = topics.feedFor(agency);
  const parkedTopic = topics.parkedFor(PARKING_SERVICES.subscriber(agency));
  const groupId = opts.groupId ?? `${prefix}subscriber-${agency}`;
  const logger = (opts.logger ?? createLogger('agency-subscriber')).child({ agency });
  const clientId = `agency-subscriber-${agency}`;

  const db = await openSubscriberDatabase(opts.databaseUrl, agency);
  const inbox = new InboxStore(db, agency, subscriberSchemaFor(agency));
  const desks = new DeskStore(db);
  const notifier = new InboxNotifier(opts.databaseUrl, inbox.channel, logger);
  const relay = new AuditRelay(createKafka(kafka.connection, clientId, logger), db, topics.audit, logger);
  const retention = new RetentionService(inbox, relay, opts.retentionDays ?? 90, opts.purgeIntervalMs ?? 0, logger);
  let app: NestFastifyApplication | undefined;
  try {
    await notifier.start();
    await relay.start();
    app = await NestFactory.create<NestFastifyApplication>(
      AgencySubscriberModule.forRoot({
        logger,
        kafka,
        agency,
        feedTopic,
        groupId,
        parkedTopic,
        consumerSafety: opts.consumerSafety ?? DEFAULT_CONSUMER_SAFETY,
        db,
        inbox,
        desks,
        notifier,
        relay,
        retention,
        adminTokenHash: opts.adminTokenHash ?? null,
        heartbeatMs: opts.heartbeatMs ?? 15_000,
      }),
      new FastifyAdapter({ bodyLimit: 64 * 1024 }),
      { logger: new PinoNestLogger(logger), bufferLogs: false, abortOnError: false },
    );
    app.useGlobalFilters(new ProblemDetailsFilter(logger));
    if (opts.shutdownHooks) app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    // Nest's Kafka transport appends '-server' to the group and client ids unless postfixId is
    // set; the broker ACL allows exactly `subscriber-<AGENCY>`, hence postfixId ''.
    app.connectMicroservice<MicroserviceOptions>({
      transport: Transport.KAFKA,
      options: {
        postfixId: '',
        client: {
          clientId,
          brokers: kafka.connection.brokers,
          ...(kafka.connection.ssl !== undefined ? { ssl: kafka.connection.ssl } : {}),
          ...(kafka.connection.sasl ? { sasl: kafka.connection.sasl } : {}),
          connectionTimeout: 5000,
          authenticationTimeout: 5000,
          retry: { initialRetryTime: 200, retries: 8 },
        },
        // read_committed: only what the gate's transactions committed.
        consumer: { groupId, readUncommitted: false, allowAutoTopicCreation: false },
        subscribe: { fromBeginning: true },
        // The value stays the raw Avro bytes; the handler decodes it with the codec.
        parser: { keepBinary: true },
      },
    });
    await app.startAllMicroservices();
    await app.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  } catch (err) {
    if (app) await app.close().catch(() => undefined);
    else {
      await relay.close().catch(() => undefined);
      await notifier.close().catch(() => undefined);
      if (db.isInitialized) await db.destroy().catch(() => undefined);
    }
    throw err;
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  logger.info({ url, feedTopic, groupId }, 'agency subscriber listening');
  const running = app;
  let closing: Promise<void> | undefined;
  return {
    app: running,
    url,
    agency,
    feedTopic,
    parkedTopic,
    groupId,
    inbox,
    desks,
    relay,
    purgeNow: (now?: Date) => retention.purgeNow(now),
    close: () => (closing ??= running.close()),
  };
}
