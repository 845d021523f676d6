// Test helper (not used by the service): the audit logger started in-process like main.ts does.
import { createLogger, startService, type Logger } from '@backbone/bootstrap';
import type { AuditLedgerRuntime, AuditLoggerOptions } from './audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from './audit-logger.module.js';

export type RunningAuditLogger = AuditLedgerRuntime & { url: string };

export async function startTestAuditLogger(opts: AuditLoggerOptions & { logger?: Logger }): Promise<RunningAuditLogger> {
  const { logger, ...options } = opts;
  const service = await startService({
    name: 'audit-logger',
    module: AuditLoggerModule.forRoot(options),
    logger: logger ?? createLogger('audit-logger', process.env['LOG_LEVEL'] ?? 'warn'),
    port: 0,
    shutdownHooks: false,
  });
  return { ...service.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME), url: service.url, close: () => service.close() };
}
