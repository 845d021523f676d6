import type { Kafka } from 'kafkajs';
import { createLogger, MetricsService, type Logger } from '@backbone/bootstrap';
import { ConsumerMetrics, createKafka, topicNames, type KafkaConnection, type TopicNames } from '@backbone/kafka';
import { GateMetrics } from './gate.metrics.js';
import type { GatePolicy } from './gate-policy.port.js';
import { GateRepository } from './gate.repository.js';
import { HoldReleaser } from './hold.releaser.js';
import { loadEnginePolicy } from './policy-engine.adapter.js';
import { PolicyGateConsumer, type PolicyGateConsumerOptions } from './policy-gate.consumer.js';

export interface StartPolicyGateOptions {
  /** A connection (a client is created for the gate) or a ready KafkaJS client. */
  kafka: KafkaConnection | Kafka;
  databaseUrl: string;
  /** Topic prefix (test and benchmark isolation). */
  prefix?: string;
  /** The policy to enforce; default: the engine loaded from policiesDir. */
  policy?: GatePolicy;
  policiesDir?: string;
  policyVersion?: string | null;
  instanceId?: string;
  groupId?: string;
  maxBatchRecords?: number;
  maxBytesPerPartition?: number;
  txnRetries?: number;
  /** Attempts of a record PostgreSQL refuses before it is dead-lettered (CONSUMER_MAX_ATTEMPTS). */
  maxPermanentAttempts?: number;
  logger?: Logger;
  metrics?: MetricsService;
  beforeCommit?: PolicyGateConsumerOptions['beforeCommit'];
  onFatal?: PolicyGateConsumerOptions['onFatal'];
}

export interface RunningPolicyGate {
  readonly topics: TopicNames;
  readonly transactionalId: string;
  readonly metrics: GateMetrics;
  readonly consumerMetrics: ConsumerMetrics;
  readonly repository: GateRepository;
  readonly policy: GatePolicy;
  readonly consumer: PolicyGateConsumer;
  /** Releases held alerts (its own transactional producer, `policy-gate-<id>-release`). */
  readonly releaser: HoldReleaser;
  /** Graceful stop: finishes the batch in hand, leaves the group, closes PostgreSQL. */
  close(): Promise<void>;
}

function isKafkaClient(k: KafkaConnection | Kafka): k is Kafka {
  return typeof (k as Kafka).consumer === 'function';
}

/**
 * Starts a gate in-process without HTTP: what main.ts wires into Nest, what the integration
 * tests run twice to share partitions, and what the benchmark measures deliveries/s through.
 */
export async function startPolicyGate(opts: StartPolicyGateOptions): Promise<RunningPolicyGate> {
  const logger = opts.logger ?? createLogger('policy-gate', 'warn');
  const kafka = isKafkaClient(opts.kafka) ? opts.kafka : createKafka(opts.kafka, 'policy-gate', logger);
  const topics = topicNames(opts.prefix ?? '');
  const policy = opts.policy ?? loadEnginePolicy(opts.policiesDir ?? 'policies', opts.policyVersion);
  const registry = opts.metrics ?? new MetricsService();
  const metrics = new GateMetrics(registry);
  const consumerMetrics = new ConsumerMetrics(registry);
  const repository = await GateRepository.open(opts.databaseUrl);
  const consumer = new PolicyGateConsumer({
    kafka,
    topics,
    policy,
    repository,
    metrics,
    logger,
    instanceId: opts.instanceId ?? '0',
    groupId: opts.groupId ?? 'policy-gate',
    maxBatchRecords: opts.maxBatchRecords ?? 500,
    maxBytesPerPartition: opts.maxBytesPerPartition ?? 1_048_576,
    txnRetries: opts.txnRetries ?? 5,
    maxPermanentAttempts: opts.maxPermanentAttempts ?? 3,
    consumerMetrics,
    ...(opts.beforeCommit ? { beforeCommit: opts.beforeCommit } : {}),
    ...(opts.onFatal ? { onFatal: opts.onFatal } : {}),
  });
  try {
    await consumer.start();
  } catch (err) {
    await consumer.close();
    await repository.close();
    throw err;
  }
  const releaser = new HoldReleaser({ kafka, topics, policy, repository, logger, instanceId: opts.instanceId ?? '0' });
  let closing: Promise<void> | undefined;
  return {
    topics,
    transactionalId: consumer.transactionalId,
    metrics,
    consumerMetrics,
    repository,
    policy,
    consumer,
    releaser,
    close: () =>
      (closing ??= (async () => {
        await releaser.close();
        await consumer.close();
        await repository.close();
      })()),
  };
}
