import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { alertCodec, type Alert } from '@backbone/codec';
import { LOGGER, MetricsService, type Logger } from '@backbone/bootstrap';
import { PUBLISHER_RECONCILE_GROUP_PREFIX } from '@backbone/infra';
import { KAFKA, TOPIC_NAMES, type TopicNames } from '@backbone/kafka';
import type { PublisherConfig } from '../config/publisher.config.js';
import { AlertStore, type PendingVersion } from '../persistence/alert.store.js';
import { IdempotencyStore } from '../persistence/idempotency.store.js';
import { submittedPartition } from '../publishing/region.partitioner.js';
import { PUBLISHER_CONFIG } from '../publisher.tokens.js';
import { findCommittedVersions, probeKey, type VersionProbe } from './committed-version.finder.js';

/** Pending versions looked at per run; the next run takes the rest. */
const BATCH = 200;
/** Longest a run waits to read the partitions to their end. */
const PROBE_DEADLINE_MS = 10_000;

export interface ReconcileReport {
  /** Versions found committed on Kafka and recorded (their keys answered with the alert). */
  completed: number;
  /** Versions not on Kafka: reservation and keys released, so the office can retry. */
  released: number;
  /** Versions whose outcome Kafka cannot tell yet (transaction open, broker down): left for the next run. */
  unknown: number;
  /** Keys left pending before any version was attached (never published) or on a settled version: released or answered. */
  releasedKeys: number;
  /** Answered keys past IDEMPOTENCY_RETENTION_HOURS: forgotten. */
  expiredKeys: number;
}

/**
 * Heals what a crash or a failed PostgreSQL write leaves half done. A reservation of version n
 * (and the Idempotency-Key that asked for it) is pending from before Kafka is asked until the
 * version is recorded. The reconciler asks Kafka (read_committed) whether that version committed:
 * if so, it records it exactly as the request would have and answers the key with the alert id;
 * if not, it releases both, so the office can update, cancel or retry. It runs at start-up, every
 * RECONCILE_INTERVAL_MS, and on demand when a request meets a pending reservation old enough to
 * be settled. Work still in flight in this process is never touched; other replicas' work is left
 * alone until it is older than the publish deadline (RECONCILE_SETTLE_MS).
 */
@Injectable()
export class PublicationReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly inFlight = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ReconcileReport> | undefined;
  private stopped = false;
  private readonly outcomes;

  constructor(
    private readonly alerts: AlertStore,
    private readonly idempotency: IdempotencyStore,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPIC_NAMES) private readonly topics: TopicNames,
    @Inject(PUBLISHER_CONFIG) private readonly config: PublisherConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter('publisher_reconciled_total', 'Pending reservations reconciled, by outcome', ['outcome']);
  }

  onApplicationBootstrap(): void {
    // In the background: start-up does not wait for Kafka; the first run begins at once.
    const tick = (): void => {
      if (this.stopped) return;
      void this.reconcile()
        .catch((err: unknown) => this.logger.warn({ err }, 'reconcile run failed; the next run retries'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.config.settings.RECONCILE_INTERVAL_MS);
        });
    };
    tick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Marks work a request of this process is doing; the returned function ends it. */
  track(id: string): () => void {
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
    return () => {
      const n = (this.inFlight.get(id) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(id);
      else this.inFlight.set(id, n);
    };
  }

  isInFlight(id: string): boolean {
    return this.inFlight.has(id);
  }

  get settleMs(): number {
    return this.config.reconcileSettleMs;
  }

  /** One run over every settled pending reservation; runs are never concurrent. */
  reconcile(): Promise<ReconcileReport> {
    if (this.running) return this.running;
    this.running = this.runOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Settles one pending version now (a request met it); 'pending' when Kafka cannot tell yet or it is in flight.
   * `olderThanMs` 0: the caller knows the reservation's process is fenced (an earlier boot), so its age does not matter.
   */
  async settleVersion(
    alertId: string,
    version: number,
    olderThanMs = this.settleMs,
  ): Promise<'completed' | 'released' | 'pending' | 'gone'> {
    if (this.isInFlight(probeKey(alertId, version))) return 'pending';
    const rows = await this.alerts.pendingVersions(olderThanMs, 1, { alertId, version });
    if (rows.length === 0) return (await this.alerts.pendingVersion(alertId, version)) ? 'pending' : 'gone';
    const report = emptyReport();
    await this.settle(rows, report, olderThanMs);
    return report.completed > 0 ? 'completed' : report.released > 0 ? 'released' : 'pending';
  }

  private async runOnce(): Promise<ReconcileReport> {
    const report = emptyReport();
    const rows = (await this.alerts.pendingVersions(this.settleMs, BATCH)).filter((r) => !this.isInFlight(probeKey(r.alertId, r.version)));
    await this.settle(rows, report, this.settleMs);
    report.releasedKeys = (await this.idempotency.releaseUnattached(this.settleMs)) + (await this.idempotency.settleOrphans(this.settleMs));
    report.expiredKeys = await this.idempotency.expire(this.config.settings.IDEMPOTENCY_RETENTION_HOURS * 3_600_000);
    if (report.completed + report.released + report.unknown + report.releasedKeys + report.expiredKeys > 0)
      this.logger.info({ ...report }, 'reconciled pending work');
    return report;
  }

  private async settle(rows: readonly PendingVersion[], report: ReconcileReport, olderThanMs: number): Promise<void> {
    const probes: (VersionProbe & { row: PendingVersion })[] = [];
    for (const row of rows) {
      const region = row.record ? alertCodec.decode(row.record).senderRegion : row.senderRegion;
      if (region === null) {
        // Reserved before records were kept and never recorded: nothing tells its partition.
        this.logger.error({ alertId: row.alertId, version: row.version }, 'pending version without its record cannot be reconciled');
        report.unknown++;
        continue;
      }
      probes.push({ alertId: row.alertId, version: row.version, partition: submittedPartition(region, row.alertId), sent: row.sent, row });
    }
    if (probes.length === 0) return;
    const found = await findCommittedVersions(this.kafka, this.topics.submitted, probes, {
      groupPrefix: PUBLISHER_RECONCILE_GROUP_PREFIX,
      deadlineMs: PROBE_DEADLINE_MS,
    });
    for (const p of probes) {
      const outcome = found.get(probeKey(p.alertId, p.version));
      if (outcome?.kind === 'committed') {
        await this.complete(alertCodec.decode(outcome.record), outcome.partition, outcome.offset);
        report.completed++;
        this.outcomes.inc({ outcome: 'completed' });
      } else if (outcome?.kind === 'absent') {
        // Only the reservation probed (as old as the settle time): a request may have settled it and reserved the version again meanwhile.
        await this.alerts.releaseVersion(p.alertId, p.version, olderThanMs);
        await this.idempotency.releaseFor(p.alertId, p.version, olderThanMs);
        report.released++;
        this.outcomes.inc({ outcome: 'released' });
      } else {
        report.unknown++;
        this.outcomes.inc({ outcome: 'unknown' });
      }
    }
  }

  /** Records a committed version exactly as the request would have, and answers its keys. */
  private async complete(alert: Alert, partition: number, offset: string): Promise<void> {
    const { alertId, version, msgType, sender, senderRegion, sent, references: _r, ...content } = alert;
    const json = JSON.stringify(content);
    if (version === 1) {
      await this.alerts.recordCreated(
        { alertId, sender, senderRegion, noticeType: alert.noticeType, headline: alert.headline, content: json },
        sent,
        partition,
        offset,
      );
    } else {
      await this.alerts.recordVersion(alertId, version, msgType, json, alert.noticeType, alert.headline, partition, offset);
    }
    await this.idempotency.completeFor(alertId, version, {
      statusCode: 201,
      body: { alertId, version, msgType, sent: sent.toISOString(), partition, offset },
    });
    this.logger.warn({ alertId, version, partition, offset }, 'completed a version that was committed on Kafka but not recorded');
  }
}

function emptyReport(): ReconcileReport {
  return { completed: 0, released: 0, unknown: 0, releasedKeys: 0, expiredKeys: 0 };
}
