import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { HealthRegistry, LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import { ConsumerProgressMonitor, KAFKA, KAFKA_CONFIG, type ConsumerSafetySettings, type KafkaConfig } from '@backbone/kafka';
import type { GatePolicy } from './gate-policy.port.js';
import type { GateSettings } from './policy-gate.config.js';
import { startPolicyGate, type RunningPolicyGate } from './policy-gate.starter.js';

export const GATE_SETTINGS_TOKEN = Symbol('GATE_SETTINGS');
export const GATE_POLICY = Symbol('GATE_POLICY');
/** What to do when the consumer stops for good; main.ts passes a process shutdown. */
export const GATE_ON_FATAL = Symbol('GATE_ON_FATAL');
/** Retry, parking and stall settings shared by every consumer (CONSUMER_*). */
export const GATE_CONSUMER_SAFETY = Symbol('GATE_CONSUMER_SAFETY');

/** Runs the gate inside the Nest service: starts after bootstrap, stops on shutdown, reports readiness. */
@Injectable()
export class PolicyGateRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private gate: RunningPolicyGate | undefined;
  private progress: ConsumerProgressMonitor | undefined;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(KAFKA_CONFIG) private readonly kafkaConfig: KafkaConfig,
    @Inject(GATE_SETTINGS_TOKEN) private readonly settings: GateSettings & { DATABASE_URL: string },
    @Inject(GATE_POLICY) private readonly policy: GatePolicy,
    @Inject(GATE_ON_FATAL) private readonly onFatal: (err: Error) => void,
    @Inject(GATE_CONSUMER_SAFETY) private readonly safety: ConsumerSafetySettings,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: MetricsService,
    private readonly health: HealthRegistry,
  ) {}

  get running(): RunningPolicyGate {
    if (!this.gate) throw new Error('policy gate not started');
    return this.gate;
  }

  async onApplicationBootstrap(): Promise<void> {
    const s = this.settings;
    this.gate = await startPolicyGate({
      kafka: this.kafka,
      databaseUrl: s.DATABASE_URL,
      prefix: this.kafkaConfig.settings.KAFKA_TOPIC_PREFIX,
      policy: this.policy,
      instanceId: s.GATE_INSTANCE_ID,
      groupId: s.GATE_GROUP_ID,
      maxBatchRecords: s.GATE_MAX_BATCH_RECORDS,
      maxBytesPerPartition: s.GATE_MAX_BYTES_PER_PARTITION,
      txnRetries: s.GATE_TXN_RETRIES,
      maxPermanentAttempts: this.safety.CONSUMER_MAX_ATTEMPTS,
      logger: this.logger,
      metrics: this.metrics,
      onFatal: this.onFatal,
    });
    const gate = this.gate;
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
      topics: [gate.topics.submitted],
      stallAfterMs: this.safety.CONSUMER_STALL_AFTER_MS,
      intervalMs: this.safety.CONSUMER_PROGRESS_INTERVAL_MS,
      metrics: gate.consumerMetrics,
      logger: this.logger,
    });
    this.health.register(this.progress);
    this.progress.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.progress?.close();
    await this.gate?.close();
  }
}
