import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';
import { AlertsModule } from './alerts/alerts.module.js';
import { AuditModule } from './audit/audit.module.js';
import type { PublisherConfig } from './config/publisher.config.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { PublisherPersistenceModule } from './persistence/publisher-persistence.module.js';
import { PublishingModule } from './publishing/publishing.module.js';
import { AGENCY_DIRECTORY, PUBLISHER_CONFIG, SERVICE } from './publisher.tokens.js';
import type { AgencyDirectory } from './registry/agency-directory.js';

export interface NoticePublisherDeps {
  logger: Logger;
  kafka: KafkaConfig;
  config: PublisherConfig;
  agencies: AgencyDirectory;
  /** Initialised and migrated (openPublisherDatabase). */
  dataSource: DataSource;
  /** Tests only: the client the publisher produces with (see PublishingModule.forRoot). */
  kafkaClient?: Kafka;
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

@Module({})
export class NoticePublisherModule {
  static forRoot(deps: NoticePublisherDeps): DynamicModule {
    return {
      module: NoticePublisherModule,
      imports: [
        ObservabilityModule.forService(SERVICE, deps.logger),
        KafkaModule.forRoot(deps.kafka, SERVICE),
        PublisherSettingsModule.forRoot(deps.config, deps.agencies),
        PublisherPersistenceModule.forRoot(deps.dataSource),
        PublishingModule.forRoot(deps.kafkaClient),
        AuditModule,
        AlertsModule,
        OpenApiModule,
      ],
    };
  }
}
