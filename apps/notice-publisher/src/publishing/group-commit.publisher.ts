// Transactional group commit. Each request hands over its records (the alert and its audit
// event); concurrent requests are gathered for a few milliseconds and sent in ONE Kafka
// transaction, so the alert and its audit event commit atomically and the per-transaction
// round trips (AddPartitionsToTxn, EndTxn, markers) are paid once per batch, not per message.
// A request's promise settles only after the commit: acknowledged means durable (acks=all).
//
// Deadline (publishTimeoutMs): a request that is not committed within it is rejected with
// PublishUnavailableError, and NOTHING of its batch can become visible later:
// - still queued: it is simply taken out of the queue;
// - in flight, before the commit was sent: the attempt is abandoned. It never calls commit (the
//   flag is checked synchronously right before), it aborts its transaction when the broker
//   answers again, and its producer is detached at once: the next batch connects a fresh
//   producer with the same transactional.id, whose InitProducerId bumps the epoch, so the broker
//   aborts whatever the abandoned one left open and fences it (a late commit or produce from it
//   is refused as PRODUCER_FENCED / INVALID_PRODUCER_EPOCH). If the broker comes back in the
//   middle of that abort, either the abort or the fencing wins: both end in ABORTED, and
//   read_committed readers (policy-gate) never see the records. A late produce request cannot
//   open a "hanging" transaction either: Kafka 4 verifies transactional produces against the
//   coordinator (KIP-890, transaction.partition.verification.enable).
// - the commit (EndTxn) was already sent: the outcome is the broker's, not ours; the request
//   waits for it (bounded by the client's requestTimeout) instead of answering a wrong 503.
// kafkajs is CommonJS whose named exports Node's ESM loader cannot list: take values from the default export.
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { Kafka, Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';

const { Partitioners } = kafkajs;

export interface OutboundRecord {
  topic: string;
  /** Explicit partition; omitted → the default (murmur2 of the key) partitioner. */
  partition?: number;
  key: string;
  value: Buffer;
  headers?: Record<string, string>;
}

export interface RecordAck {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets are int64). Known only for explicit partitions. */
  offset: string | null;
}

/** The broker could not take the batch; nothing of it was committed (the transaction was aborted). */
export class PublishUnavailableError extends Error {
  override readonly name = 'PublishUnavailableError';
}

/** The commit was sent and its answer was a failure: the records may or may not be committed. */
export class CommitOutcomeUnknownError extends Error {
  override readonly name = 'CommitOutcomeUnknownError';
}

/** An attempt abandoned at the deadline: it must never commit. */
class AbandonedError extends Error {
  override readonly name = 'AbandonedError';
}

export interface GroupCommitOptions {
  /** Lane 0's transactional.id; lane i > 0 uses `<transactionalId>.<i>`. */
  transactionalId: string;
  /**
   * Transactional producers committing side by side (default 1). One transactional producer runs
   * one transaction at a time (AddPartitionsToTxn, Produce, EndTxn: three broker round trips), so
   * with one lane every request waits for the transaction in flight before its own starts; a
   * second lane sends the next batch while the first one commits.
   */
  lanes?: number;
  /** How long the first request of a batch waits for company. */
  flushIntervalMs: number;
  /** A batch is flushed at once when it holds this many records. */
  maxBatchRecords: number;
  /**
   * Whole-transaction attempts for retriable errors (CONCURRENT_TRANSACTIONS, leader moves...).
   * Default: as many as fit before the deadline (publishTimeoutMs), else 3.
   */
  maxAttempts?: number;
  /**
   * Longest time from publish() to the commit; past it the request is rejected with
   * PublishUnavailableError and its transaction can no longer commit. Default: no deadline.
   */
  publishTimeoutMs?: number;
  logger: Logger;
  /** Called with the size of every committed batch (metrics). */
  onCommit?: (records: number, ms: number) => void;
}

interface Pending {
  records: OutboundRecord[];
  resolve(acks: RecordAck[]): void;
  reject(err: Error): void;
  /** performance.now() past which the request is answered unavailable. */
  deadline: number;
  timer?: NodeJS.Timeout;
  inFlight: boolean;
}

/** One transaction attempt's state, shared between the sender and the deadline. */
interface Attempt {
  abandoned: boolean;
  committing: boolean;
  producer?: Producer;
}

/**
 * Group commit over several transactional producers (lanes): a request goes to an idle lane, else
 * to the lane with the fewest records waiting. Every lane keeps the guarantees above on its own.
 * Per-alert order needs no lane affinity: a version is only published once the previous one was
 * committed and recorded.
 */
export class GroupCommitPublisher {
  private readonly lanes: TransactionLane[];
  /** This incarnation of the transactional ids: reservations name it, so a later boot knows them orphaned. */
  readonly bootId = randomUUID();

  constructor(kafka: Kafka, opts: GroupCommitOptions) {
    const lanes = opts.lanes ?? 1;
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`lanes must be a positive integer, got ${lanes}`);
    this.lanes = Array.from(
      { length: lanes },
      (_, i) => new TransactionLane(kafka, opts, i === 0 ? opts.transactionalId : `${opts.transactionalId}.${i}`),
    );
  }

  /** The id reservations are owned by: lane 0's, which names every lane. */
  get transactionalId(): string {
    return this.lanes[0]!.transactionalId;
  }

  /** All-or-nothing: resolves with one ack per record once the transaction committed. */
  publish(records: OutboundRecord[]): Promise<RecordAck[]> {
    // A batch still gathering takes it (a lone request at low load never splits one); then an idle lane.
    const lane =
      this.lanes.find((l) => l.gathering) ??
      this.lanes.find((l) => l.idle) ??
      this.lanes.reduce((best, l) => (l.waiting < best.waiting ? l : best));
    return lane.publish(records);
  }

  /**
   * Resolves once every lane's producer holds its transactional.id: from then on no earlier process
   * with the same ids can commit anything, and what it left open is aborted.
   */
  async register(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.register()));
  }

  /** Flushes what is queued, then disconnects. */
  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.close()));
  }
}

/** One transactional producer and its queue: the group commit described at the top of this file. */
class TransactionLane {
  private readonly queue: Pending[] = [];
  private queuedRecords = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private closed = false;
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;
  /** Abandoned attempts still aborting in the background (awaited by close()). */
  private readonly abandoned = new Set<Promise<unknown>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: GroupCommitOptions,
    readonly transactionalId: string,
  ) {}

  /** Requests queued, no transaction running: the batch is waiting for company. */
  get gathering(): boolean {
    return !this.flushing && this.queue.length > 0;
  }

  /** Nothing queued and no transaction running. */
  get idle(): boolean {
    return !this.flushing && this.queue.length === 0;
  }

  /** Records queued for the next transaction. */
  get waiting(): number {
    return this.queuedRecords;
  }

  /** All-or-nothing: resolves with one ack per record once the transaction committed. */
  publish(records: OutboundRecord[]): Promise<RecordAck[]> {
    if (this.closed) return Promise.reject(new PublishUnavailableError('publisher is shutting down'));
    const timeout = this.opts.publishTimeoutMs;
    return new Promise<RecordAck[]>((resolve, reject) => {
      const pending: Pending = {
        records,
        resolve,
        reject,
        deadline: timeout === undefined ? Infinity : performance.now() + timeout,
        inFlight: false,
      };
      if (timeout !== undefined) {
        // Only for a request still queued (e.g. behind a batch that hangs); flush() watches its own batch.
        pending.timer = setTimeout(() => {
          const i = this.queue.indexOf(pending);
          if (pending.inFlight || i < 0) return;
          this.queue.splice(i, 1);
          this.queuedRecords -= records.length;
          reject(new PublishUnavailableError(`Kafka did not take the records within ${timeout} ms; nothing was sent`));
        }, timeout);
        pending.timer.unref?.();
      }
      this.queue.push(pending);
      this.queuedRecords += records.length;
      this.schedule();
    });
  }

  /**
   * `afterCommit`: what queued up while the previous transaction ran has already waited longer
   * than the flush interval, so it goes at once (group commit: the batch grows with the load, no
   * fixed pause between transactions).
   */
  private schedule(afterCommit = false): void {
    if (this.flushing || this.queue.length === 0) return;
    if (afterCommit || this.queuedRecords >= this.opts.maxBatchRecords) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.flushIntervalMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    const batch: Pending[] = [];
    let count = 0;
    while (this.queue.length > 0 && (batch.length === 0 || count + this.queue[0]!.records.length <= this.opts.maxBatchRecords)) {
      const next = this.queue.shift()!;
      batch.push(next);
      count += next.records.length;
    }
    this.queuedRecords -= count;
    for (const p of batch) {
      p.inFlight = true;
      if (p.timer) clearTimeout(p.timer);
    }
    const started = performance.now();
    const attempt: Attempt = { abandoned: false, committing: false };
    const work = this.sendInTransaction(
      batch.flatMap((p) => p.records),
      attempt,
    );
    const deadline = Math.min(...batch.map((p) => p.deadline));
    let timer: NodeJS.Timeout | undefined;
    try {
      let acks: RecordAck[] | 'deadline' =
        deadline === Infinity
          ? await work
          : await Promise.race([
              work,
              new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), Math.max(0, deadline - performance.now())))),
            ]);
      if (acks === 'deadline') {
        if (attempt.committing) {
          // EndTxn is on its way: only the broker knows the outcome, so wait for it.
          this.opts.logger.warn({ records: count }, 'publish deadline passed during commit; waiting for the outcome');
          acks = await work;
        } else {
          this.abandon(attempt, work);
          throw new PublishUnavailableError(
            `Kafka did not commit the records within ${this.opts.publishTimeoutMs} ms; the transaction was abandoned and can no longer commit`,
          );
        }
      }
      this.opts.onCommit?.(count, performance.now() - started);
      let i = 0;
      for (const p of batch) {
        p.resolve(acks.slice(i, i + p.records.length));
        i += p.records.length;
      }
    } catch (err) {
      const cause = err as Error;
      this.opts.logger.warn({ err: cause, records: count }, 'transaction failed; batch aborted');
      // Once EndTxn was sent the broker may have committed (a commit that timed out and was
      // retried answers CONCURRENT_TRANSACTIONS while the first one completes): that is never
      // "nothing was published", or the caller would release the key and publish a second time.
      const failure =
        cause instanceof PublishUnavailableError
          ? cause
          : attempt.committing
            ? new CommitOutcomeUnknownError(`the commit was sent and then failed: ${cause.message}; the broker decides its outcome`, {
                cause,
              })
            : new PublishUnavailableError(`Kafka did not accept the records: ${cause.message}`, { cause });
      for (const p of batch) p.reject(failure);
    } finally {
      if (timer) clearTimeout(timer);
      this.flushing = false;
      this.schedule(true);
    }
  }

  /**
   * The deadline passed before the commit: the attempt may never commit. When it had begun a
   * transaction, its producer is detached so the next batch starts a fresh one that fences it
   * (see the header). Still connecting: nothing was sent, and the next batch shares that connect
   * (a second producer connecting later would fence the first one instead).
   */
  private abandon(attempt: Attempt, work: Promise<unknown>): void {
    attempt.abandoned = true;
    if (attempt.producer && this.producer === attempt.producer) this.producer = undefined;
    const settled = work
      .catch((err: unknown) => this.opts.logger.info({ err: (err as Error).message }, 'abandoned transaction finished (aborted or fenced)'))
      .finally(() => this.abandoned.delete(settled));
    this.abandoned.add(settled);
  }

  private async sendInTransaction(records: OutboundRecord[], state: Attempt): Promise<RecordAck[]> {
    // On a cluster, KafkaJS registers a transaction's partitions with one AddPartitionsToTxn per
    // partition leader, sent concurrently; the coordinator answers all but one with
    // CONCURRENT_TRANSACTIONS while it replicates the first to its transaction log. Those clear in
    // a replication round-trip, so with a deadline the transaction is retried (jittered back-off)
    // until the deadline abandons it, rather than failing the request after three quick tries.
    const maxAttempts = this.opts.maxAttempts ?? (this.opts.publishTimeoutMs !== undefined ? Number.POSITIVE_INFINITY : 3);
    for (let attempt = 1; ; attempt++) {
      const producer = await this.ready();
      // Connected only after the deadline: nothing was sent, the producer stays for the next batch.
      if (state.abandoned) throw new AbandonedError('abandoned before the transaction began');
      state.producer = producer;
      const txn = await producer.transaction();
      try {
        const meta = await txn.sendBatch({ topicMessages: toTopicMessages(records), acks: -1 });
        // Checked synchronously before EndTxn: past the deadline this transaction never commits.
        if (state.abandoned) throw new AbandonedError('abandoned at the deadline');
        state.committing = true;
        await txn.commit();
        return acksFor(records, meta);
      } catch (err) {
        if (!state.committing) {
          const aborted = await txn.abort().then(
            () => true,
            () => false,
          );
          // A failed abort leaves the producer ABORTING, or holding sequence numbers the broker may
          // already have (the epoch bump of scripts/patch-kafkajs.js patch 6 is the abort's last
          // step): a retry on it could have its records taken for duplicates. A new producer.
          if (!aborted) await this.reset(producer);
        }
        // After a failed commit the outcome is unknown: never resend, or it could be published twice.
        const retry = !state.committing && !state.abandoned && attempt < maxAttempts && isRetriable(err);
        if (!retry) {
          await this.reset(producer);
          throw err;
        }
        this.opts.logger.info({ attempt, err: (err as Error).message }, 'retrying transaction');
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempt) * (0.5 + Math.random())));
      }
    }
  }

  /** The connected transactional producer, created on first use so the service starts while Kafka is down. */
  private ready(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (this.connecting) return this.connecting;
    const connecting = (async () => {
      const producer = this.kafka.producer({
        transactionalId: this.transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 30_000,
        // Bounded retries: a request waits a few seconds at most before it gets 503. The whole
        // transaction is aborted on failure, so exactly-once does not rest on infinite retries.
        // CONCURRENT_TRANSACTIONS right after the previous commit clears within milliseconds (the
        // commit markers): a 20 ms first back-off, as Kafka's Java producer, not 100 ms after every batch.
        retry: { retries: 5, initialRetryTime: 20, maxRetryTime: 1000 },
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await producer.connect();
        // Registers the transactional.id now (InitProducerId; KafkaJS sends it only at the first
        // transaction): every earlier incarnation with this id is fenced and whatever it left open
        // is aborted before this producer is used, so its reservations can be settled (register()).
        const txn = await producer.transaction();
        await txn.abort();
      } catch (err) {
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
      this.producer = producer;
      return producer;
    })().finally(() => {
      if (this.connecting === connecting) this.connecting = undefined;
    });
    this.connecting = connecting;
    return connecting;
  }

  /**
   * Resolves once this process's producer holds the transactional.id: from then on no earlier
   * process with the same id can commit anything, and what it left open is aborted.
   */
  async register(): Promise<void> {
    await this.ready();
  }

  /** Drops a producer after a failure: KafkaJS does not reliably recover a transactional producer. */
  private async reset(producer: Producer | undefined = this.producer): Promise<void> {
    if (this.producer === producer) this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Flushes what is queued, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing || this.queue.length > 0) {
      if (!this.flushing) await this.flush();
      else await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all([...this.abandoned]);
    await this.reset();
  }
}

/**
 * Broker-side conditions that a fresh transaction gets past (coordinator busy or moving, leader
 * election). Connection failures are not retried here: KafkaJS already retried them, and an
 * unreachable broker must turn into a quick 503, not a minute of waiting.
 */
const RETRIABLE_TYPES = new Set([
  'CONCURRENT_TRANSACTIONS',
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_LEADER_FOR_PARTITION',
  'LEADER_NOT_AVAILABLE',
]);

function isRetriable(err: unknown): boolean {
  const e = err as { type?: string; originalError?: { type?: string } };
  return RETRIABLE_TYPES.has(e.type ?? '') || RETRIABLE_TYPES.has(e.originalError?.type ?? '');
}

function toTopicMessages(records: OutboundRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    const messages = byTopic.get(r.topic) ?? [];
    messages.push({
      key: r.key,
      value: r.value,
      ...(r.partition !== undefined ? { partition: r.partition } : {}),
      ...(r.headers ? { headers: r.headers } : {}),
    });
    byTopic.set(r.topic, messages);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * KafkaJS groups a batch per partition in message order and sends each partition's messages in
 * one produce request, so the n-th record for a partition has offset baseOffset + n.
 */
function acksFor(records: OutboundRecord[], meta: RecordMetadata[]): RecordAck[] {
  const base = new Map(meta.map((m) => [`${m.topicName}\u0000${m.partition}`, BigInt(m.baseOffset ?? '-1')]));
  const seen = new Map<string, bigint>();
  return records.map((r) => {
    if (r.partition === undefined) return { topic: r.topic, partition: -1, offset: null };
    const k = `${r.topic}\u0000${r.partition}`;
    const b = base.get(k);
    if (b === undefined || b < 0n) return { topic: r.topic, partition: r.partition, offset: null };
    const n = seen.get(k) ?? 0n;
    seen.set(k, n + 1n);
    return { topic: r.topic, partition: r.partition, offset: (b + n).toString() };
  });
}
