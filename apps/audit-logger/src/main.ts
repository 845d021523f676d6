import { createLogger, loadServiceSettings, runMain, startService } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings, loadRefusalAuditSettings, readEventKeyring } from '@backbone/kafka';
import { officeIntrospectionFromEnv } from '@backbone/office-auth';
import { resolveDatabase } from '@backbone/persistence';
import { appDatabaseUrl, appRolePassword, defaultSigningKeyFile } from '@backbone/ledger';
import { loadAuditLoggerSettings } from './audit-logger.config.js';
import { AuditLoggerModule } from './audit-logger.module.js';

runMain(
  'audit-logger',
  async () => {
    const service = loadServiceSettings(process.env, 8082);
    const settings = loadAuditLoggerSettings(process.env);
    const logger = createLogger('audit-logger', service.LOG_LEVEL);
    // Its own role's URL only: provisioning (`backbone audit migrate`, npm start) migrated the ledger
    // and set the role's password with owner rights; this service never holds the owner's URL.
    // Development without DATABASE_URL: the local server, logged in as the app role.
    const database = settings.DATABASE_URL ? null : await resolveDatabase();
    const databaseUrl =
      settings.DATABASE_URL ?? appDatabaseUrl(database!.url, settings.AUDIT_DB_APP_ROLE, appRolePassword(settings.AUDIT_DB_APP_PASSWORD));
    const module = AuditLoggerModule.forRoot({
      kafka: KafkaConfig.fromEnv(process.env),
      databaseUrl,
      signingKeyFile: settings.AUDIT_SIGNING_KEY_FILE ?? defaultSigningKeyFile(),
      checkpointEveryRows: settings.CHECKPOINT_EVERY_ROWS,
      checkpointEveryMs: settings.CHECKPOINT_EVERY_MS,
      groupId: settings.AUDIT_CONSUMER_GROUP,
      consumerSafety: loadConsumerSafetySettings(process.env),
      officeIntrospection: officeIntrospectionFromEnv(process.env),
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
    if (database) running.app.getHttpServer().once('close', () => void database.stop());
  },
  // DATABASE_URL (explicit, with a real password: checked for every service) is the app role's own.
  { explicit: ['AUDIT_SIGNING_KEY_FILE', 'EVENT_PUBLIC_KEYS_FILE'] },
);
