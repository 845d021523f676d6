import { createLogger, loadServiceSettings, runMain, startHttpService } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { PolicyGateModule } from './policy-gate.module.js';

runMain('policy-gate', async () => {
  const service = loadServiceSettings(process.env, 8081);
  const logger = createLogger('policy-gate', service.LOG_LEVEL);
  const kafka = KafkaConfig.fromEnv(process.env);
  await startHttpService({ module: PolicyGateModule.forRoot({ logger, kafka }), logger, port: service.PORT, host: service.HOST });
});
