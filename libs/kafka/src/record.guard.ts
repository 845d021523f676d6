import type { DeadLetter } from '@backbone/codec';
import type { Logger } from '@backbone/bootstrap';
import type { FailedRecord } from './dead-letter.builder.js';
import { classifyFailure, type ClassifiedFailure } from './failure.classifier.js';
import type { ConsumerMetrics } from './consumer.metrics.js';
import type { RecordParker } from './record.parker.js';

export interface RecordGuardOptions {
  parker: RecordParker;
  logger: Logger;
  metrics?: ConsumerMetrics;
  /** Attempts of a permanently failing record before it is parked (>= 1). */
  maxAttempts: number;
  /** Back-off between attempts: doubles from initial up to max, with jitter. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /**
   * Runs after a record was parked and before the consumer commits past it (e.g. the audit
   * logger records a placeholder in its ledger). Failures here are retried like any other.
   */
  afterPark?: (record: FailedRecord, letter: DeadLetter) => Promise<void>;
}

/** What the consumer loop supplies: KafkaJS's heartbeat and whether it still owns the partition. */
export interface GuardControl {
  heartbeat?: () => Promise<void>;
  isRunning?: () => boolean;
}

export type GuardOutcome = { processed: true } | { processed: false; parked: DeadLetter };

/** The guard gave up a transient retry because the consumer is stopping; the record stays uncommitted. */
export class ConsumerStoppingError extends Error {
  override readonly name = 'ConsumerStoppingError';
}

/**
 * One record's processing with the failure policy every consumer shares (gate, subscribers,
 * audit logger):
 * - transient failure: retry in place with back-off, for as long as it takes, heart-beating so
 *   the group keeps the partition. Order is kept (nothing behind it runs), nothing is lost; the
 *   stall shows in lag metrics and readiness.
 * - permanent failure: retried up to maxAttempts (a constraint race may clear), then parked with
 *   its reason and original bytes; the caller commits past it and goes on.
 * Parking itself needs the broker: if that fails it is retried like a transient failure.
 */
export class RecordGuard {
  private stopped = false;
  private readonly wakers = new Set<() => void>();
  /** Records currently failing, with when they first failed (for the stall check). */
  private readonly failing = new Map<object, number>();

  constructor(private readonly o: RecordGuardOptions) {
    if (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1)
      throw new Error(`RecordGuard maxAttempts must be >= 1, got ${o.maxAttempts}`);
  }

  async process(record: FailedRecord, work: () => Promise<void>, control: GuardControl = {}): Promise<GuardOutcome> {
    const token = {};
    try {
      return await this.attempt(record, work, control, token);
    } finally {
      this.failing.delete(token);
    }
  }

  /** When the oldest record still being retried first failed (ms since epoch), if any is. */
  retryingSince(): number | undefined {
    let oldest: number | undefined;
    for (const since of this.failing.values()) if (oldest === undefined || since < oldest) oldest = since;
    return oldest;
  }

  private async attempt(record: FailedRecord, work: () => Promise<void>, control: GuardControl, token: object): Promise<GuardOutcome> {
    let permanentAttempts = 0;
    let transientAttempts = 0;
    for (;;) {
      try {
        await work();
        return { processed: true };
      } catch (err) {
        if (!this.failing.has(token)) this.failing.set(token, Date.now());
        const failure = classifyFailure(err);
        if (failure.kind === 'permanent') {
          permanentAttempts++;
          if (permanentAttempts >= this.o.maxAttempts) return { processed: false, parked: await this.park(record, failure, control) };
        } else {
          transientAttempts++;
        }
        this.o.metrics?.retried(record.topic, failure.label);
        const attempt = failure.kind === 'permanent' ? permanentAttempts : transientAttempts;
        this.o.logger.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset, kind: failure.kind, reason: failure.label, attempt },
          failure.kind === 'permanent' ? 'record failed permanently; retrying before parking' : 'transient failure; retrying the record',
        );
        await this.pause(attempt, control, err);
      }
    }
  }

  /** Wakes and ends every retry loop: a consumer that is shutting down must not keep its partitions. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.wakers) wake();
  }

  private async park(record: FailedRecord, failure: ClassifiedFailure, control: GuardControl): Promise<DeadLetter> {
    for (let attempt = 1; ; attempt++) {
      try {
        const letter = await this.o.parker.park(record, failure.parkReason, failure.detail);
        await this.o.afterPark?.(record, letter);
        this.o.metrics?.parked(record.topic, failure.parkReason);
        this.o.logger.error(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            reason: failure.parkReason,
            detail: failure.detail,
            deadLetterId: letter.deadLetterId,
          },
          'record parked on the dead-letter topic',
        );
        return letter;
      } catch (err) {
        const parkFailure = classifyFailure(err);
        this.o.metrics?.retried(record.topic, `park_${parkFailure.label}`);
        this.o.logger.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset, err, attempt },
          'parking failed; retrying',
        );
        await this.pause(attempt, control, err);
      }
    }
  }

  private async pause(attempt: number, control: GuardControl, cause: unknown): Promise<void> {
    if (this.stopped || control.isRunning?.() === false)
      throw new ConsumerStoppingError('consumer stopping; record left uncommitted', { cause });
    const ceiling = Math.min(this.o.maxBackoffMs, this.o.initialBackoffMs * 2 ** Math.min(attempt - 1, 20));
    const delayMs = Math.round(ceiling * (0.5 + Math.random() / 2));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delayMs);
      const wakers = this.wakers;
      function done(): void {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
    if (this.stopped) throw new ConsumerStoppingError('consumer stopping; record left uncommitted', { cause });
    // Keeps the group membership across a long outage; a rebalance surfacing here ends the retry
    // (the record is uncommitted and goes to whoever owns the partition now).
    await control.heartbeat?.();
  }
}
