import type { Counter, Gauge } from 'prom-client';
import type { MetricsService } from '@backbone/bootstrap';
import type { DeadLetterReason } from '@backbone/codec';

/** Running totals for tests and the fuzz harness (no scrape needed). */
export interface ConsumerTotals {
  parked: number;
  retries: number;
}

/**
 * The Prometheus series every consumer shares: lag per partition, records parked by reason,
 * retries by failure label. Registered on the service's own registry (names are per service
 * because each service has its own /metrics).
 */
export class ConsumerMetrics {
  private readonly lag: Gauge;
  private readonly committed: Gauge;
  private readonly parkedCounter: Counter;
  private readonly retryCounter: Counter;
  private readonly stalled: Gauge;
  readonly totals: ConsumerTotals = { parked: 0, retries: 0 };

  constructor(metrics: MetricsService) {
    this.lag = metrics.gauge('consumer_lag_records', 'Records on the partition not yet committed by the consumer group', [
      'topic',
      'partition',
    ]);
    this.committed = metrics.gauge('consumer_committed_offset', "The consumer group's committed offset", ['topic', 'partition']);
    this.stalled = metrics.gauge(
      'consumer_partition_stalled',
      '1 when the partition has lag but its committed offset has not moved for the stall time',
      ['topic', 'partition'],
    );
    this.parkedCounter = metrics.counter('consumer_records_parked_total', 'Records parked on the dead-letter topic, by reason', [
      'topic',
      'reason',
    ]);
    this.retryCounter = metrics.counter('consumer_retries_total', 'Attempts retried after a failure, by failure label', [
      'topic',
      'reason',
    ]);
  }

  parked(topic: string, reason: DeadLetterReason): void {
    this.parkedCounter.inc({ topic, reason });
    this.totals.parked++;
  }

  retried(topic: string, label: string): void {
    this.retryCounter.inc({ topic, reason: label });
    this.totals.retries++;
  }

  position(topic: string, partition: number, committed: bigint, lag: bigint, stalled: boolean): void {
    const labels = { topic, partition: String(partition) };
    this.committed.set(labels, Number(committed));
    this.lag.set(labels, Number(lag));
    this.stalled.set(labels, stalled ? 1 : 0);
  }
}
