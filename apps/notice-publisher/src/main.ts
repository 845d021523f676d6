import { createLogger, loadServiceSettings, runMain, startHttpService } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { NoticePublisherModule } from './notice-publisher.module.js';

runMain('notice-publisher', async () => {
  const service = loadServiceSettings(process.env, 8080);
  const logger = createLogger('notice-publisher', service.LOG_LEVEL);
  const kafka = KafkaConfig.fromEnv(process.env);
  await startHttpService({ module: NoticePublisherModule.forRoot({ logger, kafka }), logger, port: service.PORT, host: service.HOST });
});
