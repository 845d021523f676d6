import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { HealthRegistry, LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import {
  ConsumerMetrics,
  createKafka,
  ConsumerProgressMonitor,
  KAFKA,
  KAFKA_CONFIG,
  TOPIC_NAMES,
  type ConsumerSafetySettings,
  type KafkaConfig,
  type TopicNames,
} from '@backbone/kafka';
import { GateMetrics } from './gate.metrics.js';
import type { GatePolicy } from './gate-policy.port.js';
import { GateRepository } from '@backbone/gate-store';
import { HoldReleaser } from './hold.releaser.js';
import { PolicyGateConsumer, type CommitHook } from './policy-gate.consumer.js';
import { gateInstanceId, type GateSettings } from './policy-gate.config.js';

export const GATE_SETTINGS_TOKEN = Symbol('GATE_SETTINGS');
export const GATE_POLICY = Symbol('GATE_POLICY');
/** What to do when the consumer stops for good; main.ts passes a process shutdown. */
export const GATE_ON_FATAL = Symbol('GATE_ON_FATAL');
/** Optional port called before each commit: the fault tests' seam (see CommitHook); production provides none. */
export const GATE_COMMIT_HOOK = Symbol('GATE_COMMIT_HOOK');
/** Retry, parking and stall settings shared by every consumer (CONSUMER_*). */
export const GATE_CONSUMER_SAFETY = Symbol('GATE_CONSUMER_SAFETY');

export interface RunningPolicyGate {
  readonly topics: TopicNames;
  /** The transactional id of the gate's producer for one input partition. */
  transactionalIdFor(partition: number): string;
  readonly metrics: GateMetrics;
  readonly consumerMetrics: ConsumerMetrics;
  readonly repository: GateRepository;
  readonly policy: GatePolicy;
  readonly consumer: PolicyGateConsumer;
  /** Releases held alerts (its own transactional producer, `policy-gate-<id>-release`). */
  readonly releaser: HoldReleaser;
}

/**
 * The gate inside its Nest service: after bootstrap it opens PostgreSQL, starts the transactional
 * consumer and the hold releaser and reports readiness; on shutdown it finishes the batch in
 * hand, leaves the group and closes PostgreSQL.
 */
@Injectable()
export class PolicyGateRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private gate: RunningPolicyGate | undefined;
  private progress: ConsumerProgressMonitor | undefined;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPIC_NAMES) private readonly topics: TopicNames,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(GATE_SETTINGS_TOKEN) private readonly settings: GateSettings & { DATABASE_URL: string },
    @Inject(GATE_POLICY) private readonly policy: GatePolicy,
    @Inject(GATE_ON_FATAL) private readonly onFatal: (err: Error) => void,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(GATE_CONSUMER_SAFETY) private readonly safety: ConsumerSafetySettings,
    private readonly metricsService: MetricsService,
    private readonly health: HealthRegistry,
    @Optional() @Inject(GATE_COMMIT_HOOK) private readonly commitHook?: CommitHook,
  ) {}

  get running(): RunningPolicyGate {
    if (!this.gate) throw new Error('policy gate not started');
    return this.gate;
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    const metrics = new GateMetrics(this.metricsService);
    const consumerMetrics = new ConsumerMetrics(this.metricsService);
    // One connection per partition in flight, plus the hold releaser's and the readiness probe's.
    const repository = await GateRepository.open(s.DATABASE_URL, { poolSize: s.GATE_PARTITIONS_CONCURRENTLY + 2 });
    // The group member names this instance, so a restarted process can remove its killed predecessor.
    const memberClientId = `policy-gate-${gateInstanceId(s.GATE_INSTANCE_ID)}`;
    const consumer = new PolicyGateConsumer({
      kafka: this.kafka,
      topics: this.topics,
      policy: this.policy,
      repository,
      metrics,
      logger: this.logger,
      groupId: s.GATE_GROUP_ID,
      maxBatchRecords: s.GATE_MAX_BATCH_RECORDS,
      maxBytesPerPartition: s.GATE_MAX_BYTES_PER_PARTITION,
      partitionsConcurrently: s.GATE_PARTITIONS_CONCURRENTLY,
      txnRetries: s.GATE_TXN_RETRIES,
      maxPermanentAttempts: this.safety.CONSUMER_MAX_ATTEMPTS,
      consumerMetrics,
      onFatal: this.onFatal,
      eventSigner: this.kafkaConfig.eventSigner,
      ...(this.commitHook ? { commitHook: this.commitHook } : {}),
      member: { kafka: createKafka(this.kafkaConfig.connection, memberClientId, this.logger), clientId: memberClientId },
    });
    try {
      await consumer.start();
    } catch (err) {
      await consumer.close();
      await repository.close();
      throw err;
    }
    const releaser = new HoldReleaser({
      kafka: this.kafka,
      topics: this.topics,
      policy: this.policy,
      repository,
      logger: this.logger,
      instanceId: gateInstanceId(s.GATE_INSTANCE_ID),
      eventSigner: this.kafkaConfig.eventSigner,
    });
    const gate: RunningPolicyGate = {
      topics: this.topics,
      transactionalIdFor: (partition: number) => consumer.transactionalIdFor(partition),
      metrics,
      consumerMetrics,
      repository,
      policy: this.policy,
      consumer,
      releaser,
    };
    this.gate = gate;
    this.health.register({ name: 'postgres', check: () => gate.repository.ping() });
    this.health.register({
      name: 'gate-consumer',
      check: async () => {
        if (gate.consumer.failure) throw gate.consumer.failure;
      },
    });
    // Lag per partition and the stalled-partition readiness check, from the broker's view of the group.
    this.progress = new ConsumerProgressMonitor({
      kafka: this.kafka,
      groupId: s.GATE_GROUP_ID,
      topics: [this.topics.submitted],
      stallAfterMs: this.safety.CONSUMER_STALL_AFTER_MS,
      intervalMs: this.safety.CONSUMER_PROGRESS_INTERVAL_MS,
      metrics: consumerMetrics,
      logger: this.logger,
    });
    this.health.register(this.progress);
    this.progress.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.progress?.close();
    this.progress = undefined;
    const gate = this.gate;
    this.gate = undefined;
    if (!gate) return;
    await gate.releaser.close();
    await gate.consumer.close();
    await gate.repository.close();
  }
}
