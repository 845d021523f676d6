import { createLogger, describeConfig, runMain, startService } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings, loadRefusalAuditSettings } from '@backbone/kafka';
import { ensureDatabase } from '@backbone/persistence';
import { AgencySubscriberModule, subscriberWiring } from './agency-subscriber.module.js';
import { loadSubscriberConfig, SUBSCRIBER_SETTINGS } from './config/subscriber.config.js';

runMain('agency-subscriber', async () => {
  const config = loadSubscriberConfig(process.env);
  const logger = createLogger('agency-subscriber', config.LOG_LEVEL).child({ agency: config.AGENCY_CODE });
  logger.info({ config: describeConfig(SUBSCRIBER_SETTINGS, config) }, 'starting');
  const opts = {
    agency: config.AGENCY_CODE,
    kafka: KafkaConfig.fromEnv(process.env),
    databaseUrl: config.DATABASE_URL ?? (await ensureDatabase()).url,
    retentionDays: config.RETENTION_DAYS,
    purgeIntervalMs: config.PURGE_INTERVAL_MS,
    adminTokenHash: config.ADMIN_TOKEN_HASH,
    maxStreamsPerDesk: config.STREAM_MAX_PER_DESK,
    streamRevalidateMs: config.STREAM_REVALIDATE_MS,
    consumerSafety: loadConsumerSafetySettings(process.env),
    refusalAudit: loadRefusalAuditSettings(process.env),
  };
  const wiring = subscriberWiring(opts);
  const module = AgencySubscriberModule.forRoot(opts, wiring);
  await startService({
    name: 'agency-subscriber',
    module,
    logger,
    port: config.PORT,
    host: config.HOST,
    bodyLimit: 64 * 1024,
  });
});
