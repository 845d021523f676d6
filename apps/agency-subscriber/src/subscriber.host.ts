import { readFileSync } from 'node:fs';
import { ConfigError, describeConfig, startService, type Logger, type RunningService } from '@backbone/bootstrap';
import { KafkaConfig, loadConsumerSafetySettings, loadRefusalAuditSettings } from '@backbone/kafka';
import { AgencySubscriberModule, subscriberWiring } from './agency-subscriber.module.js';
import { AGENCY_CODE_PATTERN, loadSubscriberConfig, SUBSCRIBER_SETTINGS } from './config/subscriber.config.js';

/** One agency served by a shared host process: its own port, Kafka principal, consumer group and schema. */
export interface HostedAgency {
  agency: string;
  port: number;
  kafkaUsername: string;
  kafkaPassword: string;
  /** This agency's own event signing key (`backbone infra up`); signs its DELIVERED/ACKNOWLEDGED/PURGED events. */
  eventSigningKeyFile?: string;
}

/**
 * Reads SUBSCRIBER_HOST_FILE: a JSON array of { agency, port, kafkaUsername, kafkaPassword }.
 * It holds passwords, so it must not be readable by others (as credentials.json). ADR 0005.
 */
export function parseHostFile(text: string, source = 'SUBSCRIBER_HOST_FILE'): HostedAgency[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${source} is not JSON: ${(err as Error).message}`]);
  }
  if (!Array.isArray(doc) || doc.length === 0) throw new ConfigError([`${source} must be a non-empty JSON array of agencies`]);
  const problems: string[] = [];
  const seen = new Set<string>();
  const ports = new Set<number>();
  const out = doc.map((entry: unknown, i): HostedAgency => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const agency = typeof e['agency'] === 'string' ? e['agency'] : '';
    const port = typeof e['port'] === 'number' ? e['port'] : NaN;
    const kafkaUsername = typeof e['kafkaUsername'] === 'string' ? e['kafkaUsername'] : '';
    const kafkaPassword = typeof e['kafkaPassword'] === 'string' ? e['kafkaPassword'] : '';
    if (!AGENCY_CODE_PATTERN.test(agency)) problems.push(`${source}[${i}].agency ${JSON.stringify(e['agency'])} is not an agency code`);
    else if (seen.has(agency)) problems.push(`${source}[${i}].agency ${agency} appears twice`);
    if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`${source}[${i}].port must be a TCP port`);
    else if (port !== 0 && ports.has(port)) problems.push(`${source}[${i}].port ${port} is used twice`);
    if (!kafkaUsername || !kafkaPassword)
      problems.push(`${source}[${i}] needs kafkaUsername and kafkaPassword (each agency keeps its own principal)`);
    seen.add(agency);
    ports.add(port);
    const eventSigningKeyFile = typeof e['eventSigningKeyFile'] === 'string' ? e['eventSigningKeyFile'] : undefined;
    return { agency, port, kafkaUsername, kafkaPassword, ...(eventSigningKeyFile ? { eventSigningKeyFile } : {}) };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

export function readHostFile(path: string): HostedAgency[] {
  return parseHostFile(readFileSync(path, 'utf8'), `SUBSCRIBER_HOST_FILE=${path}`);
}

export interface SubscriberHost {
  readonly services: ReadonlyMap<string, RunningService>;
  close(): Promise<void>;
}

/**
 * Starts several agencies' subscribers in this process, in parallel (start-up is mostly waiting:
 * migrations, the group join). `env` holds the settings shared by all (broker, TLS, database,
 * retention, topic prefix); each agency gets its own AGENCY_CODE, PORT and KAFKA_SASL_* on top, so
 * its own principal, consumer group, schema and port, exactly as one main.ts process would have.
 * All or nothing: if one fails, the others are closed and the error names every failure.
 */
export async function startSubscriberHost(
  hosted: readonly HostedAgency[],
  env: NodeJS.ProcessEnv,
  databaseUrl: string,
  root: Logger,
): Promise<SubscriberHost> {
  const services = new Map<string, RunningService>();
  const close = async (): Promise<void> => {
    await Promise.all([...services.values()].map((r) => r.close().catch((err: unknown) => root.error({ err }, 'close failed'))));
  };
  const results = await Promise.allSettled(
    hosted.map(async (h) => {
      const own = {
        ...env,
        AGENCY_CODE: h.agency,
        PORT: String(h.port),
        KAFKA_SASL_USERNAME: h.kafkaUsername,
        KAFKA_SASL_PASSWORD: h.kafkaPassword,
        // Never inherited: an agency signs only with its own key.
        EVENT_SIGNING_KEY_FILE: h.eventSigningKeyFile ?? '',
      };
      const config = loadSubscriberConfig(own);
      const logger = root.child({ agency: h.agency });
      logger.info({ config: describeConfig(SUBSCRIBER_SETTINGS, config) }, 'starting');
      const opts = {
        agency: h.agency,
        kafka: KafkaConfig.fromEnv(own),
        databaseUrl,
        retentionDays: config.RETENTION_DAYS,
        purgeIntervalMs: config.PURGE_INTERVAL_MS,
        adminTokenHash: config.ADMIN_TOKEN_HASH,
        consumerSafety: loadConsumerSafetySettings(own),
        refusalAudit: loadRefusalAuditSettings(own),
      };
      const wiring = subscriberWiring(opts);
      const service = await startService({
        name: 'agency-subscriber',
        module: AgencySubscriberModule.forRoot(opts, wiring),
        logger,
        port: h.port,
        host: config.HOST,
        bodyLimit: 64 * 1024,
        // One signal handler for the whole host (each service's own would exit after the first).
        shutdownHooks: false,
      });
      services.set(h.agency, service);
    }),
  );
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${hosted[i]!.agency}: ${(r.reason as Error).message}`] : []));
  if (failed.length > 0) {
    await close();
    throw new Error(`subscribers failed to start: ${failed.join('; ')}`);
  }
  return { services, close };
}
