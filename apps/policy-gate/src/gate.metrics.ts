import type { Counter, Histogram } from 'prom-client';
import type { MetricsService } from '@backbone/bootstrap';
import type { BatchStats } from './batch.assembler.js';

/** The gate's Prometheus series, registered on the service's own registry. */
export class GateMetrics {
  private readonly deliveries: Counter;
  private readonly alerts: Counter;
  private readonly deadLetters: Counter;
  private readonly holds: Counter;
  private readonly recalls: Counter;
  private readonly txnRetries: Counter;
  readonly batchSize: Histogram;
  readonly decisionSeconds: Histogram;
  readonly transactionSeconds: Histogram;
  /** Running totals, for the benchmark and tests (no scrape needed). */
  readonly totals: BatchStats = { alerts: 0, deliveries: 0, recalls: 0, holds: 0, deadLetters: 0 };

  constructor(metrics: MetricsService) {
    this.deliveries = metrics.counter('gate_deliveries_total', 'Deliveries written to agency feeds (committed)');
    this.alerts = metrics.counter('gate_alerts_decided_total', 'Alert versions decided (committed)');
    this.deadLetters = metrics.counter('gate_dead_letters_total', 'Inbound records dead-lettered (committed)');
    this.holds = metrics.counter('gate_holds_total', 'Recipient outcomes held for review');
    this.recalls = metrics.counter('gate_recalls_total', 'Update/Cancel deliveries sent to past recipients that policy would now exclude');
    this.txnRetries = metrics.counter('gate_transaction_retries_total', 'Kafka transactions retried after a retriable error', ['error']);
    this.batchSize = metrics.histogram(
      'gate_batch_records',
      'Inbound records per Kafka transaction',
      [],
      [1, 5, 10, 50, 100, 250, 500, 1000, 5000],
    );
    this.decisionSeconds = metrics.histogram(
      'gate_decision_seconds',
      'Time to decode, decide and encode one batch',
      [],
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    );
    this.transactionSeconds = metrics.histogram(
      'gate_transaction_seconds',
      'PostgreSQL write plus Kafka transaction per batch',
      [],
      [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    );
  }

  committed(stats: BatchStats): void {
    this.deliveries.inc(stats.deliveries);
    this.alerts.inc(stats.alerts);
    this.deadLetters.inc(stats.deadLetters);
    this.holds.inc(stats.holds);
    this.recalls.inc(stats.recalls);
    this.totals.alerts += stats.alerts;
    this.totals.deliveries += stats.deliveries;
    this.totals.deadLetters += stats.deadLetters;
    this.totals.holds += stats.holds;
    this.totals.recalls += stats.recalls;
  }

  retried(errorType: string): void {
    this.txnRetries.inc({ error: errorType });
  }
}
