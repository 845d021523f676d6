import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { CREDENTIAL_VERIFIER } from '@backbone/auth';
import { HealthRegistry, LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import {
  ConsumerSafety,
  createKafka,
  DEFAULT_CONSUMER_SAFETY,
  KAFKA,
  KafkaConfig,
  KafkaModule,
  RefusalAuditModule,
  type RefusalAuditSettings,
  PARKING_SERVICES,
  topicNames,
  type ConsumerSafetySettings,
  type KafkaConnection,
} from '@backbone/kafka';
import { AuditRelay } from './audit/audit.relay.js';
import { AGENCY_CODE_PATTERN } from './config/subscriber.config.js';
import { openSubscriberDatabase, subscriberSchemaFor, DeskStore } from '@backbone/inbox-store';
import { DeskController } from './desks/desk.controller.js';
import { SubscriberCredentialVerifier } from './desks/subscriber-credential.verifier.js';
import { FeedConsumer } from './feed/feed.consumer.js';
import { InboxController } from './inbox/inbox.controller.js';
import { InboxStore } from './inbox/inbox.store.js';
import { RetentionService } from './retention/retention.service.js';
import { InboxNotifier } from './stream/inbox.notifier.js';
import { StreamController } from './stream/stream.controller.js';
import {
  AUDIT_RELAY,
  CONSUMER_SAFETY,
  DESK_STORE,
  FEED_WIRING,
  INBOX_NOTIFIER,
  INBOX_STORE,
  RETENTION,
  SUBSCRIBER_OPTIONS,
} from './subscriber.tokens.js';

export interface AgencySubscriberOptions {
  agency: string;
  /** The broker connection (its principal must be allowed to read the feed) or a ready KafkaConfig. */
  kafka: KafkaConfig | KafkaConnection;
  databaseUrl: string;
  /** Topic prefix (test isolation); overrides the KafkaConfig's own. */
  prefix?: string;
  /** Consumer group; default `<prefix>subscriber-<AGENCY>` (the group the broker ACL allows when the prefix is empty). */
  groupId?: string;
  retentionDays?: number;
  /** 0 = no timer (call purgeNow). */
  purgeIntervalMs?: number;
  /** SHA-256 of the agency-admin token for /desks; null = desk management through the CLI only. */
  adminTokenHash?: string | null;
  /** SSE keep-alive and re-check interval. */
  heartbeatMs?: number;
  /** Concurrent SSE streams per desk (default 4). */
  maxStreamsPerDesk?: number;
  /** How often open streams re-check their desk's credential, ms (default 2000). */
  streamRevalidateMs?: number;
  /** Retry, parking and stall settings (CONSUMER_* in docs/operator.md); default: their defaults. */
  consumerSafety?: ConsumerSafetySettings;
  /** REFUSAL_* / ANONYMOUS_REFUSAL_* settings (docs/operator.md); default: their defaults. */
  refusalAudit?: RefusalAuditSettings;
}

/** What the options resolve to before anything connects: the names the module and the feed consumer use. */
export interface SubscriberWiring {
  readonly agency: string;
  readonly kafka: KafkaConfig;
  readonly feedTopic: string;
  /** Where records this subscriber can never store are parked. */
  readonly parkedTopic: string;
  readonly auditTopic: string;
  readonly groupId: string;
  readonly clientId: string;
}

export function subscriberWiring(opts: AgencySubscriberOptions): SubscriberWiring {
  const agency = opts.agency;
  if (!AGENCY_CODE_PATTERN.test(agency)) throw new Error(`Invalid agency code ${JSON.stringify(agency)}`);
  const base = opts.kafka instanceof KafkaConfig ? opts.kafka : KafkaConfig.of(opts.kafka);
  const prefix = opts.prefix ?? base.settings.KAFKA_TOPIC_PREFIX;
  const topics = topicNames(prefix);
  return {
    agency,
    kafka: KafkaConfig.of(base.connection, prefix, base.eventSigner),
    feedTopic: topics.feedFor(agency),
    parkedTopic: topics.parkedFor(PARKING_SERVICES.subscriber(agency)),
    auditTopic: topics.audit,
    groupId: opts.groupId ?? `${prefix}subscriber-${agency}`,
    clientId: `agency-subscriber-${agency}`,
  };
}

/** The agency's opened stores and workers: inbox database, desks, notifier, audit relay, retention. */
export interface SubscriberRuntime {
  readonly db: DataSource;
  readonly inbox: InboxStore;
  readonly desks: DeskStore;
  readonly notifier: InboxNotifier;
  readonly relay: AuditRelay;
  readonly retention: RetentionService;
}

export const SUBSCRIBER_RUNTIME = Symbol('SUBSCRIBER_RUNTIME');

async function openRuntime(w: SubscriberWiring, opts: AgencySubscriberOptions, logger: Logger): Promise<SubscriberRuntime> {
  const db = await openSubscriberDatabase(opts.databaseUrl, w.agency);
  const inbox = new InboxStore(db, w.agency, subscriberSchemaFor(w.agency), w.kafka.eventSigner);
  const desks = new DeskStore(db);
  const notifier = new InboxNotifier(opts.databaseUrl, inbox.channel, logger);
  const relay = new AuditRelay(createKafka(w.kafka.connection, w.clientId, logger), db, w.auditTopic, logger);
  const retention = new RetentionService(inbox, relay, opts.retentionDays ?? 90, opts.purgeIntervalMs ?? 0, logger);
  try {
    await notifier.start();
    await relay.start();
  } catch (err) {
    await relay.close().catch(() => undefined);
    await notifier.close().catch(() => undefined);
    if (db.isInitialized) await db.destroy().catch(() => undefined);
    throw err;
  }
  return { db, inbox, desks, notifier, relay, retention };
}

/** Starts the purge timer and closes the subscriber's own resources after Nest has stopped HTTP and the feed consumer. */
@Injectable()
class SubscriberLifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(SUBSCRIBER_RUNTIME) private readonly runtime: SubscriberRuntime,
    @Inject(CONSUMER_SAFETY) private readonly safety: ConsumerSafety,
    @Inject(SUBSCRIBER_OPTIONS) private readonly options: { agency: string },
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const db = this.runtime.db;
    this.health.register({ name: 'postgres', check: async () => void (await db.query('SELECT 1')) });
    this.runtime.retention.start();
  }

  /** Before the feed consumer disconnects: a record retrying through an outage must let go of its partition. */
  beforeApplicationShutdown(): void {
    this.safety.stopRetrying();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.safety.close();
    this.runtime.retention.stop();
    await this.runtime.relay.close();
    await this.runtime.notifier.close();
    if (this.runtime.db.isInitialized) await this.runtime.db.destroy();
    this.logger.info({ agency: this.options.agency }, 'agency subscriber stopped');
  }
}

/** agency-subscriber: one agency's feed consumer, inbox, desks, live stream, retention and audit relay. */
@Module({})
export class AgencySubscriberModule {
  static forRoot(opts: AgencySubscriberOptions, wiring: SubscriberWiring = subscriberWiring(opts)): DynamicModule {
    const w = wiring;
    const fromRuntime = <K extends keyof SubscriberRuntime>(key: K) => ({
      inject: [SUBSCRIBER_RUNTIME],
      useFactory: (r: SubscriberRuntime): SubscriberRuntime[K] => r[key],
    });
    return {
      module: AgencySubscriberModule,
      imports: [
        KafkaModule.forRoot(w.kafka, w.clientId),
        // A subscriber's events name its own agency (the emitter rules hold it to that).
        RefusalAuditModule.forService({
          service: 'agency-subscriber',
          agency: w.agency,
          ...(opts.refusalAudit ? { settings: opts.refusalAudit } : {}),
        }),
      ],
      controllers: [DeskController, InboxController, StreamController],
      providers: [
        { provide: SUBSCRIBER_RUNTIME, inject: [LOGGER], useFactory: (logger: Logger) => openRuntime(w, opts, logger) },
        { provide: INBOX_STORE, ...fromRuntime('inbox') },
        { provide: DESK_STORE, ...fromRuntime('desks') },
        { provide: INBOX_NOTIFIER, ...fromRuntime('notifier') },
        { provide: AUDIT_RELAY, ...fromRuntime('relay') },
        { provide: RETENTION, ...fromRuntime('retention') },
        {
          provide: SUBSCRIBER_OPTIONS,
          useValue: {
            agency: w.agency,
            adminTokenHash: opts.adminTokenHash ?? null,
            heartbeatMs: opts.heartbeatMs ?? 15_000,
            maxStreamsPerDesk: opts.maxStreamsPerDesk ?? 4,
            streamRevalidateMs: opts.streamRevalidateMs ?? 2000,
          },
        },
        {
          provide: CONSUMER_SAFETY,
          inject: [KAFKA, MetricsService, HealthRegistry, LOGGER, SUBSCRIBER_RUNTIME],
          useFactory: (kafka: Kafka, metrics: MetricsService, health: HealthRegistry, logger: Logger, runtime: SubscriberRuntime) =>
            new ConsumerSafety({
              kafka,
              service: PARKING_SERVICES.subscriber(w.agency),
              groupId: w.groupId,
              topics: [w.feedTopic],
              parkedTopic: w.parkedTopic,
              settings: opts.consumerSafety ?? DEFAULT_CONSUMER_SAFETY,
              logger,
              metrics,
              health,
              // Also kept in the agency's own database, next to the inbox it could not enter.
              afterPark: (record, letter) =>
                runtime.inbox.reject(record.topic, record.partition, record.offset, record.value, `${letter.reason}: ${letter.detail}`),
            }),
        },
        { provide: CREDENTIAL_VERIFIER, useClass: SubscriberCredentialVerifier },
        { provide: FEED_WIRING, useValue: { feedTopic: w.feedTopic, groupId: w.groupId, clientId: w.clientId } },
        FeedConsumer,
        SubscriberLifecycle,
      ],
    };
  }
}
