import { createLogger, describeConfig, runMain } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings } from '@backbone/kafka';
import { ensureDatabase } from '@backbone/persistence';
import { loadSubscriberConfig, SUBSCRIBER_SETTINGS } from './config/subscriber.config.js';
import { startAgencySubscriber } from './subscriber.bootstrap.js';

runMain('agency-subscriber', async () => {
  const config = loadSubscriberConfig(process.env);
  const kafka = KafkaConfig.fromEnv(process.env);
  const consumerSafety = loadConsumerSafetySettings(process.env);
  const logger = createLogger('agency-subscriber', config.LOG_LEVEL);
  logger.info({ config: describeConfig(SUBSCRIBER_SETTINGS, config) }, 'starting');
  const databaseUrl = config.DATABASE_URL ?? (await ensureDatabase()).url;
  await startAgencySubscriber({
    agency: config.AGENCY_CODE,
    kafka,
    databaseUrl,
    port: config.PORT,
    host: config.HOST,
    retentionDays: config.RETENTION_DAYS,
    purgeIntervalMs: config.PURGE_INTERVAL_MS,
    adminTokenHash: config.ADMIN_TOKEN_HASH,
    logger,
    shutdownHooks: true,
    consumerSafety,
  });
});
