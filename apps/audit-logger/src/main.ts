import { createLogger, loadServiceSettings, runMain } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings } from '@backbone/kafka';
import { resolveDatabase } from '@backbone/persistence';
import { loadAuditLoggerSettings } from './audit-logger.config.js';
import { defaultSigningKeyFile, startAuditLogger } from './audit-logger.start.js';

runMain('audit-logger', async () => {
  const service = loadServiceSettings(process.env, 8082);
  const settings = loadAuditLoggerSettings(process.env);
  const logger = createLogger('audit-logger', service.LOG_LEVEL);
  const kafka = KafkaConfig.fromEnv(process.env);
  const consumerSafety = loadConsumerSafetySettings(process.env);
  const database = await resolveDatabase();
  const running = await startAuditLogger({
    kafka,
    databaseUrl: settings.DATABASE_URL ?? database.url,
    port: settings.PORT,
    host: service.HOST,
    signingKeyFile: settings.AUDIT_SIGNING_KEY_FILE ?? defaultSigningKeyFile(),
    checkpointEveryRows: settings.CHECKPOINT_EVERY_ROWS,
    checkpointEveryMs: settings.CHECKPOINT_EVERY_MS,
    groupId: settings.AUDIT_CONSUMER_GROUP,
    appRole: settings.AUDIT_DB_APP_ROLE,
    appPassword: settings.AUDIT_DB_APP_PASSWORD,
    logger,
    consumerSafety,
  });
  logger.info({ url: running.url }, 'audit logger ready');
  const stop = (): void => {
    running.close().then(
      () => database.stop(),
      (err: unknown) => logger.error({ err }, 'shutdown failed'),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
});
