import { Module, type DynamicModule } from '@nestjs/common';
import { ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';

export interface AuditLoggerDeps {
  logger: Logger;
  kafka: KafkaConfig;
}

@Module({})
export class AuditLoggerModule {
  static forRoot(deps: AuditLoggerDeps): DynamicModule {
    return {
      module: AuditLoggerModule,
      imports: [ObservabilityModule.forService('audit-logger', deps.logger), KafkaModule.forRoot(deps.kafka, 'audit-logger')],
    };
  }
}
