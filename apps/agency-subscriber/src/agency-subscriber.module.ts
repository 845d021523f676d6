import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HealthRegistry, LOGGER, ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';
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
import { AUDIT_RELAY, DESK_STORE, INBOX_NOTIFIER, INBOX_STORE, RETENTION, SUBSCRIBER_OPTIONS } from './subscriber.tokens.js';

/** Everything the module wires; opened by startAgencySubscriber before Nest starts. */
export interface AgencySubscriberDeps {
  logger: Logger;
  kafka: KafkaConfig;
  agency: string;
  feedTopic: string;
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
class SubscriberLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(SUBSCRIBER_DEPS) private readonly deps: AgencySubscriberDeps,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const db = this.deps.db;
    this.health.register({ name: 'postgres', check: async () => void (await db.query('SELECT 1')) });
    this.deps.retention.start();
  }

  async onApplicationShutdown(): Promise<void> {
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
        { provide: SUBSCRIBER_OPTIONS, useValue: { agency: deps.agency, adminTokenHash: deps.adminTokenHash, heartbeatMs: deps.heartbeatMs } },
        DeskAuthGuard,
        AgencyAdminGuard,
        SubscriberLifecycle,
      ],
    };
  }
}
