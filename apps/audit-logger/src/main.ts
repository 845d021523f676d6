import { createLogger, loadServiceSettings, runMain, startService } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings, loadRefusalAuditSettings, readEventKeyring } from '@backbone/kafka';
import { resolveDatabase } from '@backbone/persistence';
import { defaultSigningKeyFile } from '@backbone/ledger';
import { loadAuditLoggerSettings } from './audit-logger.config.js';
import { AuditLoggerModule } from './audit-logger.module.js';

runMain(
  'audit-logger',
  async () => {
    const service = loadServiceSettings(process.env, 8082);
    const settings = loadAuditLoggerSettings(process.env);
    const logger = createLogger('audit-logger', service.LOG_LEVEL);
    const database = await resolveDatabase();
    const module = AuditLoggerModule.forRoot({
      kafka: KafkaConfig.fromEnv(process.env),
      databaseUrl: settings.DATABASE_URL ?? database.url,
      signingKeyFile: settings.AUDIT_SIGNING_KEY_FILE ?? defaultSigningKeyFile(),
      checkpointEveryRows: settings.CHECKPOINT_EVERY_ROWS,
      checkpointEveryMs: settings.CHECKPOINT_EVERY_MS,
      groupId: settings.AUDIT_CONSUMER_GROUP,
      appRole: settings.AUDIT_DB_APP_ROLE,
      appPassword: settings.AUDIT_DB_APP_PASSWORD,
      consumerSafety: loadConsumerSafetySettings(process.env),
      refusalAudit: loadRefusalAuditSettings(process.env),
      anchors: {
        topic: settings.AUDIT_ANCHOR_TOPIC,
        file: settings.AUDIT_ANCHOR_FILE,
        maxUnanchoredTail: settings.AUDIT_MAX_UNANCHORED_TAIL,
      },
      // Only public keys: the audit logger can check every emitter but impersonate none.
      ...(settings.EVENT_PUBLIC_KEYS_FILE ? { eventKeyring: readEventKeyring(settings.EVENT_PUBLIC_KEYS_FILE) } : {}),
    });
    const running = await startService({ name: 'audit-logger', module, logger, port: settings.PORT, host: service.HOST });
    // The embedded database (when no server was found) stops after the service has closed.
    running.app.getHttpServer().once('close', () => void database.stop());
  },
  { explicit: ['AUDIT_SIGNING_KEY_FILE', 'AUDIT_DB_APP_PASSWORD', 'EVENT_PUBLIC_KEYS_FILE'], secrets: ['AUDIT_DB_APP_PASSWORD'] },
);
