import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { HealthRegistry, LOGGER, MetricsService, ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { ConsumerSafety, KAFKA, KafkaModule, type ConsumerSafetySettings, type KafkaConfig } from '@backbone/kafka';
import type { AuditRelay } from './audit/audit.relay.js';
import { DeskAuthGuard, AgencyAdminGuard } from './desks/desk-auth.guard.js';
import { DeskController } from './desks/desk.controller.js';
import type { DeskStore } from './desks/desk.store.js';
import { feedConsumerFor } from './feed/feed.consumer.js';
import { InboxController } from './inbox/inbox.controller.js';
import type { InboxStore } from './inbox/inbox.store.js';
import type { RetentionService } from './retention/retention.service.js';
import type { InboxNotifier } from './stream/inbox.notifier.js';
import { StreamController } from './stream/stream.controller.js';
import { AUDIT_RELAY, CONSUMER_SAFETY, DESK_STORE, INBOX_NOTIFIER, INBOX_STORE, RETENTION, SUBSCRIBER_OPTIONS } from './subscriber.tokens.js';

/** Everything the module wires; opened by startAgencySubscriber before Nest starts. */
export interface AgencySubscriberDeps {
  logger: Logger;
  kafka: KafkaConfig;
  agency: string;
  feedTopic: string;
  groupId: string;
  /** Where records this subscriber can never store are parked (topicNames().parkedFor). */
  parkedTopic: string;
  consumerSafety: ConsumerSafetySettings;
  db: DataSource;
  inbox: InboxStore;
  desks: DeskStore;
  notifier: InboxNotifier;
  relay: AuditRelay;
  retention: RetentionService;
  adminTokenHash: string | null;
  heartbeatMs: number;
}

export const SUBSCRIBER_DEPS = Symbol('SUBSCRIBER_DEPS');

/** Starts the purge timer and closes the subscriber's own resources after Nest has stopped HTTP and the consumer. */
@Injectable()
class SubscriberLifecycle implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(SUBSCRIBER_DEPS) private readonly deps: AgencySubscriberDeps,
    @Inject(CONSUMER_SAFETY) private readonly safety: ConsumerSafety,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const db = this.deps.db;
    this.health.register({ name: 'postgres', check: async () => void (await db.query('SELECT 1')) });
    this.deps.retention.start();
  }

  /** Before the transport disconnects: a record retrying through an outage must let go of its partition. */
  beforeApplicationShutdown(): void {
    this.safety.stopRetrying();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.safety.close();
    this.deps.retention.stop();
    await this.deps.relay.close();
    await this.deps.notifier.close();
    if (this.deps.db.isInitialized) await this.deps.db.destroy();
    this.logger.info({ agency: this.deps.agency }, 'agency subscriber stopped');
  }
}

@Module({})
export class AgencySubscriberModule {
  static forRoot(deps: AgencySubscriberDeps): DynamicModule {
    return {
      module: AgencySubscriberModule,
      imports: [ObservabilityModule.forService('agency-subscriber', deps.logger), KafkaModule.forRoot(deps.kafka, `agency-subscriber-${deps.agency}`)],
      controllers: [DeskController, InboxController, StreamController, feedConsumerFor(deps.feedTopic)],
      providers: [
        { provide: SUBSCRIBER_DEPS, useValue: deps },
        { provide: INBOX_STORE, useValue: deps.inbox },
        { provide: DESK_STORE, useValue: deps.desks },
        { provide: INBOX_NOTIFIER, useValue: deps.notifier },
        { provide: AUDIT_RELAY, useValue: deps.relay },
        { provide: RETENTION, useValue: deps.retention },
        {
          provide: CONSUMER_SAFETY,
          inject: [KAFKA, MetricsService, HealthRegistry, LOGGER],
          useFactory: (kafka: Kafka, metrics: MetricsService, health: HealthRegistry, logger: Logger) =>
            new ConsumerSafety({
              kafka,
              service: `subscriber-${deps.agency}`,
              groupId: deps.groupId,
              topics: [deps.feedTopic],
              parkedTopic: deps.parkedTopic,
              settings: deps.consumerSafety,
              logger,
              metrics,
              health,
              // Also kept in the agency's own database, next to the inbox it could not enter.
              afterPark: (record, letter) => deps.inbox.reject(record.topic, record.partition, record.offset, record.value, `${letter.reason}: ${letter.detail}`),
            }),
        },
        { provide: SUBSCRIBER_OPTIONS, useValue: { agency: deps.agency, adminTokenHash: deps.adminTokenHash, heartbeatMs: deps.heartbeatMs } },
        DeskAuthGuard,
        AgencyAdminGuard,
        SubscriberLifecycle,
      ],
    };
  }
}
