import { createLogger, loadServiceSettings, runMain, startHttpService } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { AgencySubscriberModule } from './agency-subscriber.module.js';

runMain('agency-subscriber', async () => {
  const service = loadServiceSettings(process.env, 8100);
  const logger = createLogger('agency-subscriber', service.LOG_LEVEL);
  const kafka = KafkaConfig.fromEnv(process.env);
  await startHttpService({ module: AgencySubscriberModule.forRoot({ logger, kafka }), logger, port: service.PORT, host: service.HOST });
});
