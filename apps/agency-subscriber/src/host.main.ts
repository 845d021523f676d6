import { createLogger, describeConfig, runMain, startService, type RunningService } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { ensureDatabase } from '@backbone/persistence';
import { AgencySubscriberModule, subscriberTransport, subscriberWiring } from './agency-subscriber.module.js';
import { loadSubscriberConfig, SUBSCRIBER_SETTINGS } from './config/subscriber.config.js';
import { readHostFile } from './subscriber.host.js';

// Several agencies' subscribers in one process (ADR 0005): one Node runtime, one module load, one
// event loop, instead of one per agency. Each agency still has its own Kafka client under its own
// principal, its own consumer group, its own schema and its own HTTP port, exactly as in main.ts.
runMain('agency-subscriber', async () => {
  const file = process.env['SUBSCRIBER_HOST_FILE'];
  if (!file) throw new Error('SUBSCRIBER_HOST_FILE is not set (a JSON array of { agency, port, kafkaUsername, kafkaPassword })');
  const hosted = readHostFile(file);
  const first = loadSubscriberConfig({ ...process.env, AGENCY_CODE: hosted[0]!.agency });
  const root = createLogger('agency-subscriber', first.LOG_LEVEL);
  const databaseUrl = first.DATABASE_URL ?? (await ensureDatabase()).url;
  const running: RunningService[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(running.map((r) => r.close().catch((err: unknown) => root.error({ err }, 'close failed'))));
    process.exit(0);
  };
  // One handler for the process (each service's own hooks are off: they would exit after the first).
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  // In parallel: start-up is mostly waiting (PostgreSQL migrations, the group join), not CPU.
  const results = await Promise.allSettled(
    hosted.map(async (h) => {
      const env = { ...process.env, AGENCY_CODE: h.agency, PORT: String(h.port), KAFKA_SASL_USERNAME: h.kafkaUsername, KAFKA_SASL_PASSWORD: h.kafkaPassword };
      const config = loadSubscriberConfig(env);
      const logger = root.child({ agency: h.agency });
      logger.info({ config: describeConfig(SUBSCRIBER_SETTINGS, config) }, 'starting');
      const opts = {
        agency: h.agency,
        kafka: KafkaConfig.fromEnv(env),
        databaseUrl,
        retentionDays: config.RETENTION_DAYS,
        purgeIntervalMs: config.PURGE_INTERVAL_MS,
        adminTokenHash: config.ADMIN_TOKEN_HASH,
      };
      const wiring = subscriberWiring(opts);
      const module = AgencySubscriberModule.forRoot(opts, wiring);
      const r = await startService({
        name: 'agency-subscriber',
        module,
        logger,
        port: h.port,
        host: config.HOST,
        bodyLimit: 64 * 1024,
        microservices: [subscriberTransport(wiring)],
        shutdownHooks: false,
      });
      running.push(r);
      return r;
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${hosted[i]!.agency}: ${(r.reason as Error).message}`] : []));
  if (failed.length > 0) {
    // All or nothing, as separate processes would be: an agency that did not start is not hidden.
    await Promise.all(running.map((r) => r.close().catch(() => undefined)));
    throw new Error(`subscribers failed to start: ${failed.join('; ')}`);
  }
  root.info({ agencies: hosted.map((h) => h.agency) }, 'subscriber host ready');
});
