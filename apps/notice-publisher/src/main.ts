import { createLogger, loadServiceSettings, runMain } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { PublisherConfig } from './config/publisher.config.js';
import { startPublisher } from './publisher.app.js';

runMain('notice-publisher', async () => {
  // Every setting is validated before anything connects; a bad one stops start-up with its name.
  const service = loadServiceSettings(process.env, 8080);
  const config = PublisherConfig.fromEnv(process.env);
  const kafka = KafkaConfig.fromEnv(process.env);
  const logger = createLogger('notice-publisher', service.LOG_LEVEL);
  await startPublisher({ logger, kafka, config, host: service.HOST });
});
