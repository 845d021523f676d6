import { createLogger, runMain } from '@backbone/bootstrap';
import { ensureDatabase } from '@backbone/persistence';
import { loadSubscriberConfig } from './config/subscriber.config.js';
import { readHostFile, startSubscriberHost } from './subscriber.host.js';

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
  const host = await startSubscriberHost(hosted, process.env, databaseUrl, root);
  const stop = (): void => void host.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  root.info({ agencies: hosted.map((h) => h.agency) }, 'subscriber host ready');
});
