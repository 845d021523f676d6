import { Inject, Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HealthRegistry, ObservabilityModule, type Logger } from '@backbone/bootstrap';
import { KafkaModule, type KafkaConfig } from '@backbone/kafka';
import { AUDIT_CONTEXT, type AuditLoggerContext } from './audit-logger.context.js';
import { ComplianceController } from './compliance.controller.js';

export interface AuditLoggerDeps {
  logger: Logger;
  kafka: KafkaConfig;
  context: AuditLoggerContext;
}

/** Readiness includes the ledger database (as the app role), not just Kafka. */
@Injectable()
class LedgerReadiness implements OnModuleInit {
  constructor(
    @Inject(AUDIT_CONTEXT) private readonly ctx: AuditLoggerContext,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register({ name: 'postgres', check: async () => void (await this.ctx.pool.query('SELECT 1')) });
  }
}

@Module({})
export class AuditLoggerModule {
  static forRoot(deps: AuditLoggerDeps): DynamicModule {
    return {
      module: AuditLoggerModule,
      imports: [ObservabilityModule.forService('audit-logger', deps.logger), KafkaModule.forRoot(deps.kafka, 'audit-logger')],
      controllers: [ComplianceController],
      providers: [{ provide: AUDIT_CONTEXT, useValue: deps.context }, LedgerReadiness],
    };
  }
}
