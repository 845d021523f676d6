import { readFileSync } from 'node:fs';
// kafkajs is CommonJS whose exports Node's ESM loader cannot list: named value imports fail outside jest.
import kafkajs from 'kafkajs';
import { pollUntil } from './poll-until.js';
import type { Admin } from 'kafkajs';
import { kafkaConnection } from '@backbone/infra';
import type { KafkaConnection } from '@backbone/kafka';

const { Kafka, logLevel } = kafkajs;

/**
 * Connection for `principal` to the broker chosen by the test global setup (test/global-setup.ts), read
 * from the environment it exported. On the local harness broker every bootstrapped principal exists
 * (TLS + SCRAM); on an external broker (KAFKA_BROKERS given) only the KAFKA_SASL_USERNAME one, with TLS
 * when KAFKA_CA_FILE or KAFKA_TLS=true is set and SASL when KAFKA_SASL_USERNAME is.
 */
export function testKafkaConnection(principal = 'admin', env: NodeJS.ProcessEnv = process.env): KafkaConnection {
  const brokers = (env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set: run integration tests through jest (test/global-setup.ts)');
  if (hasServicePrincipals(env)) return { ...kafkaConnection(principal, { home: env.BACKBONE_HOME }), brokers };
  const connection: KafkaConnection = { brokers };
  if (env.KAFKA_CA_FILE) connection.ssl = { ca: [readFileSync(env.KAFKA_CA_FILE, 'utf8')] };
  else if (env.KAFKA_TLS === 'true') connection.ssl = true;
  if (env.KAFKA_SASL_USERNAME) {
    if (principal !== 'admin' && principal !== env.KAFKA_SASL_USERNAME) {
      throw new Error(`the external broker in KAFKA_BROKERS has no credentials for "${principal}" here`);
    }
    const mechanism = (env.KAFKA_SASL_MECHANISM ?? 'scram-sha-512') as 'scram-sha-512' | 'scram-sha-256' | 'plain';
    connection.sasl = { mechanism, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD ?? '' } as KafkaConnection['sasl'];
  }
  return connection;
}

/** True when the global setup bootstrapped the per-service principals (the local harness broker). */
export function hasServicePrincipals(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BACKBONE_KAFKA_PRINCIPALS === 'bootstrapped';
}

/** A KafkaJS client for tests: short timeouts and few retries so a refused or broken call fails fast. */
export function testKafka(
  principal = 'admin',
  clientId = `test-${principal}`,
  connection = testKafkaConnection(principal),
): InstanceType<typeof Kafka> {
  return new Kafka({
    clientId,
    ...connection,
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
    requestTimeout: 15000,
    retry: { initialRetryTime: 100, retries: 3 },
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Creates topics and returns once every partition has a leader. KafkaJS's own waitForLeaders
 * sometimes throws UNKNOWN_TOPIC_OR_PARTITION while the metadata propagates, so the wait is ours.
 */
export async function createTopics(admin: Admin, names: readonly string[], partitions = 1): Promise<void> {
  await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: false });
  await pollUntil(
    async () => {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [...names] });
        return (
          topics.length === names.length &&
          topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))
        );
      } catch {
        return false;
      }
    },
    { description: `leaders for ${names.join(', ')}`, timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** Deletes topics a test created; topics already gone are fine. */
export async function deleteTopics(admin: Admin, names: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const topics = names.filter((n) => existing.has(n));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 15000 });
}
