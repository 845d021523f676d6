import { createLogger, loadServiceSettings, runMain, startHttpService } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { AuditLoggerModule } from './audit-logger.module.js';

runMain('audit-logger', async () => {
  const service = loadServiceSettings(process.env, 8082);
  const logger = createLogger('audit-logger', service.LOG_LEVEL);
  const kafka = KafkaConfig.fromEnv(process.env);
  await startHttpService({ module: AuditLoggerModule.forRoot({ logger, kafka }), logger, port: service.PORT, host: service.HOST });
});
