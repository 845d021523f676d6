import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CREDENTIAL_VERIFIER } from '@backbone/auth';
import { HealthRegistry, LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import { KafkaConfig, KafkaModule, RefusalAuditModule, type RefusalAuditSettings } from '@backbone/kafka';
import { openAuditLedger, type AuditLedgerRuntime, type AuditLoggerOptions } from './audit-ledger.runtime.js';
import { AUDIT_CONTEXT } from './audit-logger.context.js';
import { ComplianceController } from './compliance.controller.js';
import { ComplianceCredentialVerifier } from './compliance-users.store.js';
import { AUDIT_OFFICE_INTROSPECTION, AuditCredentialVerifier } from './audit-credential.verifier.js';
import { OfficeAlertsController } from './office-alerts.controller.js';

/** The opened ledger runtime (pool, writer, ingest consumer, signing key). */
export const AUDIT_RUNTIME = Symbol('AUDIT_RUNTIME');

/** Readiness includes the ledger database (as the app role), not just Kafka; shutdown closes the ledger after HTTP. */
@Injectable()
class LedgerLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(AUDIT_RUNTIME) private readonly runtime: AuditLedgerRuntime,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
  ) {}
  onModuleInit(): void {
    this.health.register({ name: 'postgres', check: async () => void (await this.runtime.pool.query('SELECT 1')) });
  }
  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}

/** audit-logger: ingest of audit.events into the hash-chained ledger, signed checkpoints, the compliance API. */
@Module({})
export class AuditLoggerModule {
  static forRoot(opts: AuditLoggerOptions & { refusalAudit?: RefusalAuditSettings }): DynamicModule {
    const kafka = opts.kafka instanceof KafkaConfig ? opts.kafka : KafkaConfig.of(opts.kafka, opts.prefix ?? '');
    return {
      module: AuditLoggerModule,
      imports: [
        KafkaModule.forRoot(kafka, 'audit-logger'),
        RefusalAuditModule.forService({ service: 'audit-logger', ...(opts.refusalAudit ? { settings: opts.refusalAudit } : {}) }),
      ],
      controllers: [ComplianceController, OfficeAlertsController],
      providers: [
        {
          provide: AUDIT_RUNTIME,
          inject: [LOGGER, MetricsService, HealthRegistry],
          useFactory: (logger: Logger, metrics: MetricsService, health: HealthRegistry) =>
            openAuditLedger({ ...opts, kafka }, logger, { metrics, health }),
        },
        { provide: AUDIT_CONTEXT, inject: [AUDIT_RUNTIME], useFactory: (runtime: AuditLedgerRuntime) => runtime.context },
        ComplianceCredentialVerifier,
        { provide: AUDIT_OFFICE_INTROSPECTION, useValue: opts.officeIntrospection ?? null },
        { provide: CREDENTIAL_VERIFIER, useClass: AuditCredentialVerifier },
        LedgerLifecycle,
      ],
    };
  }
}
