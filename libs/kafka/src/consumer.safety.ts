import type { Kafka } from 'kafkajs';
import type { HealthRegistry, Logger, MetricsService } from '@backbone/bootstrap';
import type { DeadLetter } from '@backbone/codec';
import type { ConsumerSafetySettings } from './consumer-safety.config.js';
import { ConsumerMetrics } from './consumer.metrics.js';
import { ConsumerProgressMonitor } from './consumer-progress.monitor.js';
import type { FailedRecord } from './dead-letter.builder.js';
import { RecordGuard } from './record.guard.js';
import { KafkaRecordParker, type RecordParker } from './record.parker.js';

export interface ConsumerSafetyOptions {
  kafka: Kafka;
  /** Service name in dead letters and in the parked topic. */
  service: string;
  groupId: string;
  topics: readonly string[];
  /** The service's dead-letter topic (topicNames().parkedFor(service)). */
  parkedTopic: string;
  settings: ConsumerSafetySettings;
  logger: Logger;
  metrics: MetricsService;
  health: HealthRegistry;
  afterPark?: (record: FailedRecord, letter: DeadLetter) => Promise<void>;
  /** Replaces the Kafka parker (tests that collect parked records in memory). */
  parker?: RecordParker;
}

/** A consumer's failure policy, lag metrics and stall readiness, wired the same way in every service. */
export class ConsumerSafety {
  readonly metrics: ConsumerMetrics;
  readonly guard: RecordGuard;
  readonly monitor: ConsumerProgressMonitor;
  private readonly kafkaParker: KafkaRecordParker | undefined;

  constructor(o: ConsumerSafetyOptions) {
    this.metrics = new ConsumerMetrics(o.metrics);
    this.kafkaParker = o.parker ? undefined : new KafkaRecordParker(o.kafka, o.service, o.parkedTopic);
    this.guard = new RecordGuard({
      parker: o.parker ?? this.kafkaParker!,
      logger: o.logger,
      metrics: this.metrics,
      maxAttempts: o.settings.CONSUMER_MAX_ATTEMPTS,
      initialBackoffMs: o.settings.CONSUMER_RETRY_BACKOFF_MS,
      maxBackoffMs: o.settings.CONSUMER_RETRY_BACKOFF_MAX_MS,
      ...(o.afterPark ? { afterPark: o.afterPark } : {}),
    });
    this.monitor = new ConsumerProgressMonitor({
      kafka: o.kafka,
      groupId: o.groupId,
      topics: o.topics,
      stallAfterMs: o.settings.CONSUMER_STALL_AFTER_MS,
      intervalMs: o.settings.CONSUMER_PROGRESS_INTERVAL_MS,
      metrics: this.metrics,
      logger: o.logger,
      retryingSince: () => this.guard.retryingSince(),
    });
    o.health.register(this.monitor);
    this.monitor.start();
  }

  /** Ends retry loops first (so the consumer can leave its group), then the monitor and the parker. */
  stopRetrying(): void {
    this.guard.stop();
  }

  async close(): Promise<void> {
    this.guard.stop();
    await this.monitor.close();
    await this.kafkaParker?.close();
  }
}
