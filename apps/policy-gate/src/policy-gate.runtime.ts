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
import { evictGatePredecessor, PolicyGateConsumer, type CommitHook, type GateMember } from './policy-gate.consumer.js';
import { gateInstanceId, type GateSettings } from './policy-gate.config.js';

export const GATE_SETTINGS_TOKEN = Symbol('GATE_SETTINGS');
export const GATE_POLICY = Symbol('GATE_POLICY');
/** What to do when the consumer stops for good; main.ts passes a process shutdown. */
export const GATE_ON_FATAL = Symbol('GATE_ON_FATAL');
/** Optional port called before each commit: the fault tests' seam (see CommitHook); production provides none. */
export const GATE_COMMIT_HOOK = Symbol('GATE_COMMIT_HOOK');
/** Retry, parking and stall settings shared by every consumer (CONSUMER_*). */
export const GATE_CONSUMER_SAFETY = Symbol('GATE_CONSUMER_SAFETY');
/** Optional: the group member main.ts made before Nest's start-up, its predecessor's removal under way. */
export const GATE_MEMBER = Symbol('GATE_MEMBER');

/** This instance's group member (client id `policy-gate-<instance>`), so a restarted process can remove its killed predecessor. */
export function gateMember(kafkaConfig: KafkaConfig, settings: Pick<GateSettings, 'GATE_INSTANCE_ID'>, logger: Logger): GateMember {
  const clientId = `policy-gate-${gateInstanceId(settings.GATE_INSTANCE_ID)}`;
  return { kafka: createKafka(kafkaConfig.connection, clientId, logger), clientId };
}

/** gateMember with the predecessor's removal started at once (main.ts, before Nest's start-up). */
export function gateMemberEvicting(
  kafkaConfig: KafkaConfig,
  settings: Pick<GateSettings, 'GATE_INSTANCE_ID' | 'GATE_GROUP_ID'>,
  logger: Logger,
): GateMember {
  const member = gateMember(kafkaConfig, settings, logger);
  return { ...member, evicted: evictGatePredecessor(member, settings.GATE_GROUP_ID, logger) };
}

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
    @Optional() @Inject(GATE_MEMBER) private readonly member?: GateMember,
  ) {}

  get running(): RunningPolicyGate {
    if (!this.gate) throw new Error('policy gate not started');
    return this.gate;
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    // Started first (unless main.ts already did): its broker round trips overlap opening PostgreSQL.
    const member = this.member ?? gateMemberEvicting(this.kafkaConfig, s, this.logger);
    const metrics = new GateMetrics(this.metricsService);
    const consumerMetrics = new ConsumerMetrics(this.metricsService);
    // One connection per partition in flight, plus the hold releaser's and the readiness probe's.
    const repository = await GateRepository.open(s.DATABASE_URL, { poolSize: s.GATE_PARTITIONS_CONCURRENTLY + 2 });
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
      member,
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
