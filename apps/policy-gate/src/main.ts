import { createLogger, describeConfig, loadServiceSettings, runMain, startService } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings, loadRefusalAuditSettings } from '@backbone/kafka';
import { officeIntrospectionFromEnv } from '@backbone/office-auth';
import { resolveDatabase } from '@backbone/persistence';
import { GATE_SETTINGS, loadGateSettings } from './policy-gate.config.js';
import { PolicyGateModule } from './policy-gate.module.js';
import { gateMemberEvicting } from './policy-gate.runtime.js';
import { loadEnginePolicy } from './policy-engine.adapter.js';

runMain('policy-gate', async () => {
  const service = loadServiceSettings(process.env, 8081);
  const logger = createLogger('policy-gate', service.LOG_LEVEL);
  const gate = loadGateSettings(process.env);
  const kafka = KafkaConfig.fromEnv(process.env);
  // A restarted instance first removes its killed predecessor from the group: a few broker round
  // trips, started now so they overlap the rest of the start-up instead of preceding the join.
  const member = gateMemberEvicting(kafka, gate, logger);
  const consumerSafety = loadConsumerSafetySettings(process.env);
  const policy = loadEnginePolicy(gate.POLICIES_DIR, gate.POLICY_VERSION);
  const officeIntrospection = officeIntrospectionFromEnv(process.env);
  const database = await resolveDatabase();
  logger.info(
    {
      config: describeConfig(GATE_SETTINGS, gate),
      officeVerification: officeIntrospection ? 'introspection' : 'off',
      policyVersion: policy.policyVersion,
      database: database.detail,
    },
    'policy gate configured',
  );
  // SIGTERM runs the ordinary graceful shutdown; the non-zero exit tells the orchestrator to restart us.
  const onFatal = (): void => {
    process.exitCode = 1;
    process.kill(process.pid, 'SIGTERM');
  };
  const module = PolicyGateModule.forRoot({
    kafka,
    member,
    settings: { ...gate, DATABASE_URL: database.url },
    policy,
    onFatal,
    consumerSafety,
    officeIntrospection,
    refusalAudit: loadRefusalAuditSettings(process.env),
  });
  await startService({ name: 'policy-gate', module, logger, port: service.PORT, host: service.HOST });
});
