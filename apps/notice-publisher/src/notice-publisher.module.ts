import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { KafkaModule, RefusalAuditModule, type KafkaConfig, type RefusalAuditSettings } from '@backbone/kafka';
import { AlertsModule } from './alerts/alerts.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { PublisherConfig } from './config/publisher.config.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { PublisherPersistenceModule } from './persistence/publisher-persistence.module.js';
import { PublishingModule } from './publishing/publishing.module.js';
import { AGENCY_DIRECTORY, PUBLISHER_CONFIG, SERVICE } from './publisher.tokens.js';
import { loadAgencyDirectory, type AgencyDirectory } from './registry/agency-directory.js';

export interface NoticePublisherDeps {
  kafka: KafkaConfig;
  config: PublisherConfig;
  /** Tests only: the client the publisher produces with (see PublishingModule.forRoot). */
  kafkaClient?: Kafka;
  /** REFUSAL_* / ANONYMOUS_REFUSAL_* settings (docs/operator.md); default: their defaults. */
  refusalAudit?: RefusalAuditSettings;
}

@Global()
@Module({})
class PublisherSettingsModule {
  static forRoot(config: PublisherConfig, agencies: AgencyDirectory): DynamicModule {
    return {
      module: PublisherSettingsModule,
      providers: [
        { provide: PUBLISHER_CONFIG, useValue: config },
        { provide: AGENCY_DIRECTORY, useValue: agencies },
      ],
      exports: [PUBLISHER_CONFIG, AGENCY_DIRECTORY],
    };
  }
}

/** notice-publisher: the registry, its database (migrated at start-up), the group-commit producer and the office API. */
@Module({})
export class NoticePublisherModule {
  static forRoot(deps: NoticePublisherDeps): DynamicModule {
    const s = deps.config.settings;
    return {
      module: NoticePublisherModule,
      imports: [
        KafkaModule.forRoot(deps.kafka, SERVICE),
        RefusalAuditModule.forService({ service: SERVICE, ...(deps.refusalAudit ? { settings: deps.refusalAudit } : {}) }),
        PublisherSettingsModule.forRoot(deps.config, loadAgencyDirectory(s.POLICIES_DIR)),
        PublisherPersistenceModule.forRoot(s.DATABASE_URL),
        AuthModule,
        PublishingModule.forRoot(deps.kafkaClient),
        AuditModule,
        AlertsModule,
        OpenApiModule,
      ],
    };
  }
}
