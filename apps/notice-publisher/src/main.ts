import { createLogger, loadServiceSettings, runMain, startService } from '@backbone/bootstrap';
import { KafkaConfig, loadRefusalAuditSettings } from '@backbone/kafka';
import { PublisherConfig } from './config/publisher.config.js';
import { NoticePublisherModule } from './notice-publisher.module.js';
import { SERVICE } from './publisher.tokens.js';

runMain(SERVICE, async () => {
  // Every setting is validated before anything connects; a bad one stops start-up with its name.
  const service = loadServiceSettings(process.env, 8080);
  const config = PublisherConfig.fromEnv(process.env);
  const logger = createLogger(SERVICE, service.LOG_LEVEL);
  const module = NoticePublisherModule.forRoot({
    kafka: KafkaConfig.fromEnv(process.env),
    config,
    refusalAudit: loadRefusalAuditSettings(process.env),
  });
  await startService({
    name: SERVICE,
    module,
    logger,
    port: config.settings.PORT,
    host: service.HOST,
    bodyLimit: config.settings.BODY_LIMIT_BYTES,
  });
});
