import type { Admin, Kafka } from 'kafkajs';
import type { Logger, ReadinessCheck } from '@backbone/bootstrap';
import type { ConsumerMetrics } from './consumer.metrics.js';

export interface PartitionProgress {
  topic: string;
  partition: number;
  committed: bigint;
  high: bigint;
  lag: bigint;
  /** When the committed offset last moved, or when lag appeared (ms since epoch). */
  since: number;
  stalled: boolean;
}

export interface ConsumerProgressOptions {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  stallAfterMs: number;
  intervalMs: number;
  metrics?: ConsumerMetrics;
  logger: Logger;
  /** When the oldest record still being retried started failing (RecordGuard.retryingSince), if any. */
  retryingSince?: () => number | undefined;
  /** Test seam for the clock. */
  now?: () => number;
}

/**
 * A read_committed consumer that has consumed everything can still sit one offset below the high
 * watermark: the last entry is a transaction marker (the gate and the publisher write
 * transactionally), which is not a record and which some clients never commit past. A lag of this
 * much is only a stall when the consumer itself says a record is stuck in retry.
 */
export const TRAILING_MARKER_SLACK = 1n;

/** Readiness check name: `/health/ready` lists it failing with the stalled partitions. */
export const CONSUMER_PROGRESS_CHECK = 'consumer-progress';

/**
 * Samples the group's committed offsets against the high watermarks: lag per partition as a
 * metric, and a readiness check that fails while a partition has lag but its committed offset
 * has not moved for stallAfterMs. It reads what the broker says, not what the consumer believes,
 * so a consumer stuck inside a handler, crashed or fenced shows the same way.
 */
export class ConsumerProgressMonitor implements ReadinessCheck {
  readonly name = CONSUMER_PROGRESS_CHECK;
  private admin: Admin | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private readonly state = new Map<string, PartitionProgress>();
  private readonly now: () => number;

  constructor(private readonly o: ConsumerProgressOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.o.intervalMs);
    this.timer.unref();
    void this.sample();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling?.catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  /** The latest sample per partition (tests, CLI). */
  partitions(): PartitionProgress[] {
    return [...this.state.values()];
  }

  async check(): Promise<void> {
    const stalled = this.partitions().filter((p) => p.stalled);
    if (stalled.length === 0) return;
    const now = this.now();
    throw new Error(
      stalled
        .map(
          (p) =>
            `${p.topic}/${p.partition}: ${p.lag} records behind, committed offset ${p.committed} unchanged for ${Math.round((now - p.since) / 1000)} s`,
        )
        .join('; '),
    );
  }

  /** One sample now; concurrent callers share it. */
  sample(): Promise<void> {
    this.sampling ??= this.sampleOnce().finally(() => {
      this.sampling = undefined;
    });
    return this.sampling;
  }

  private async sampleOnce(): Promise<void> {
    try {
      if (!this.admin) {
        const admin = this.o.kafka.admin();
        await admin.connect();
        this.admin = admin;
      }
      const admin = this.admin;
      const now = this.now();
      const committed = await admin.fetchOffsets({ groupId: this.o.groupId, topics: [...this.o.topics] });
      for (const topic of this.o.topics) {
        const highs = await admin.fetchTopicOffsets(topic);
        const group = committed.find((t) => t.topic === topic)?.partitions ?? [];
        for (const h of highs) {
          const own = group.find((p) => p.partition === h.partition);
          // No commit yet: the group starts from the beginning, i.e. the log start offset.
          const position = own && BigInt(own.offset) >= 0n ? BigInt(own.offset) : BigInt(h.low);
          const high = BigInt(h.high);
          const lag = high > position ? high - position : 0n;
          const key = `${topic}/${h.partition}`;
          const before = this.state.get(key);
          const moved = !before || before.committed !== position || before.lag === 0n;
          const since = moved ? now : before.since;
          const retrying = this.o.retryingSince?.();
          const stuckInRetry = retrying !== undefined && now - retrying >= this.o.stallAfterMs;
          const stalled = lag > 0n && now - since >= this.o.stallAfterMs && (lag > TRAILING_MARKER_SLACK || stuckInRetry);
          if (stalled && !before?.stalled)
            this.o.logger.error({ topic, partition: h.partition, lag: String(lag), committed: String(position) }, 'partition stalled');
          this.state.set(key, { topic, partition: h.partition, committed: position, high, lag, since, stalled });
          this.o.metrics?.position(topic, h.partition, position, lag, stalled);
        }
      }
    } catch (err) {
      // The kafka readiness check reports an unreachable broker; keep the last sample.
      this.o.logger.warn({ err }, 'consumer progress sample failed');
      const stale = this.admin;
      this.admin = undefined;
      await stale?.disconnect().catch(() => undefined);
    }
  }
}
