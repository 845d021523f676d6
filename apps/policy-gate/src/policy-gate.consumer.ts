import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import type { EventSigningKey } from '@backbone/codec';
import {
  classifyFailure,
  CONSUMER_GROUP_TIMING,
  evictPredecessors,
  heartbeatWhile,
  RestartBackoff,
  superviseCrashes,
  type ClassifiedFailure,
  type ConsumerMetrics,
  type TopicNames,
} from '@backbone/kafka';
import { contextFromHeaders, SPAN_ATTR, SPANS, trace, traceHeaders, tracer, type Span } from '@backbone/telemetry';
import {
  alertIdsOf,
  assembleBatch,
  type AssembledBatch,
  type DecodedRecord,
  type GateCodecs,
  type InboundRecord,
} from './batch.assembler.js';
import { decodeInbound, gateCodecsFor, loadGateCodecs } from './gate.codecs.js';
import type { GateMetrics } from './gate.metrics.js';
import type { GatePolicy } from './gate-policy.port.js';
import type { GateRepository } from '@backbone/gate-store';
import { partitionTransactionalIdFor } from './policy-gate.config.js';
import { createTransactionalProducer, startTransactionalProducer, topicMessagesOf } from './transactional-producer.js';

export const SERVICE = 'policy-gate';

/** Kafka errors after which the same transaction may simply be tried again. */
const RETRIABLE_TXN_ERRORS = new Set([
  'CONCURRENT_TRANSACTIONS',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'UNKNOWN_TOPIC_OR_PARTITION',
]);

/**
 * Another instance took over this partition's transactional id (the partition moved to it in a
 * rebalance): this instance's producer for the partition is a zombie. Not fatal: the producer is
 * dropped, and the partition's next batch here (if it ever comes back) starts a new one.
 */
const FENCED_ERRORS = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

/** What a heartbeat answers when this member has to join its group again (a rebalance started, or it was removed). */
const REJOIN_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'FENCED_INSTANCE_ID']);

export interface PolicyGateConsumerOptions {
  kafka: Kafka;
  topics: TopicNames;
  policy: GatePolicy;
  repository: GateRepository;
  metrics: GateMetrics;
  logger: Logger;
  groupId: string;
  /** The gate's event key: signs the DECIDED and DEAD_LETTERED events. */
  eventSigner?: EventSigningKey | null;
  maxBatchRecords: number;
  maxBytesPerPartition: number;
  /**
   * Input partitions handled at the same time (KafkaJS partitionsConsumedConcurrently). Each
   * partition has its own transactional producer, so their transactions are independent; one
   * partition's batches are still handled one after another, in order. Default 1.
   */
  partitionsConcurrently?: number;
  txnRetries: number;
  /** Attempts of a record PostgreSQL refuses (SQLSTATE class 22/23) before it is dead-lettered in the batch's transaction. */
  maxPermanentAttempts?: number;
  /** Shared consumer series (parked by reason, retries by reason); the gate's own series stay in GateMetrics. */
  consumerMetrics?: ConsumerMetrics;
  /** Called once if the instance stops for good (only a commit hook's 'vanish' does that now). */
  onFatal?: (err: Error) => void;
  /** Optional port awaited just before each commit (see CommitHook). */
  commitHook?: CommitHook;
  /**
   * This instance as a group member: a client whose client id names the instance
   * (`policy-gate-<GATE_INSTANCE_ID>`). At start the instance's earlier process, if still a member
   * (killed, its session not over), is removed, so the group rebalances at once instead of
   * waiting out the dead member's session. Without it the shared client joins under `policy-gate`.
   */
  member?: GateMember;
}

/**
 * A port awaited after a batch's records and offsets are in the open transaction, just before
 * commit. Fault tests plug one in to fail a transaction there (by throwing) or to stop the
 * instance as if its process died (by answering 'vanish': no abort, no commit, nothing more).
 */
export interface CommitHook {
  beforeCommit(batch: { records: number; partition: number }): Promise<'commit' | 'vanish'>;
}

/** The instance stopped as if its process had died (CommitHook answered 'vanish'). */
class InstanceVanished extends Error {
  override readonly name = 'InstanceVanished';
}

class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** The type of a KafkaJS error, looking through the retry wrappers to the broker's error. */
export function kafkaErrorType(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const type = (e as { type?: unknown }).type;
    // KafkaJS 2.2.4 predates PRODUCER_FENCED (error code 90) and reports it as an unknown code.
    if (type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && /\b90\b/.test(e.message)) return 'PRODUCER_FENCED';
    if (typeof type === 'string') return type;
    e = (e as { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/**
 * Consumes alerts.submitted and, per fetched batch, writes every resulting feed delivery, audit
 * event and dead letter together with the consumed offsets in ONE Kafka transaction.
 */
export class PolicyGateConsumer {
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  /**
   * One transactional producer per input partition this instance owns (the pattern Kafka used
   * before KIP-447): the transactional id follows the partition, not the instance. When a
   * partition moves, its new owner's InitProducerId fences the old owner's producer for it and
   * aborts (or completes) whatever transaction that one left open, before the new owner reads the
   * partition's committed offset (see verifiedStart). So a slow old owner can never commit a
   * partition's records after the new owner has started on them, and two instances never fence
   * each other for anything but the partition that actually moved.
   */
  private readonly producers = new Map<number, Promise<Producer>>();
  /**
   * Per partition, this generation: the committed offset re-read after the partition's producer
   * was registered. Records below it were handled by a previous owner and are skipped.
   */
  private readonly floors = new Map<number, bigint>();
  /**
   * Per partition, the offset after the last transaction this instance's current producer committed.
   * The broker answers a commit before it has written the commit markers, and until they are written
   * the group's committed offset still reads as the one before (KafkaJS's OffsetFetch has no
   * require_stable, KIP-447). A rebalance in that window that left the partition here (its producer
   * kept, so no InitProducerId waits for the markers) read the old offset as the floor and decided the
   * records again: 26 alerts twice in a feed while a broker was SIGSTOPped. Dropped with the producer.
   */
  private readonly ownCommitted = new Map<number, bigint>();
  private readonly backoff = new RestartBackoff();
  /** When the current generation's assignment arrived, and the partitions not yet committed in it (restart timeline in the log). */
  private joinedAt = 0;
  private readonly firstCommitPending = new Set<number>();
  /**
   * Set when a heartbeat reports that the group is rebalancing; cleared by the next assignment.
   * KafkaJS rejoins only once every batch in hand has returned, and the whole group waits for that:
   * a restarted or added gate instance waited 4–7 s for the other instance to finish batches it
   * was about to give up anyway. Batches stop at the next slice boundary instead.
   */
  private rejoinPending: Error | undefined;
  private running = false;
  private dead = false;
  private fatal: Error | undefined;

  private readonly codecs: GateCodecs;

  constructor(private readonly o: PolicyGateConsumerOptions) {
    this.codecs = gateCodecsFor(o.eventSigner ?? null);
  }

  private createConsumer(): Consumer {
    return (this.o.member?.kafka ?? this.o.kafka).consumer({
      groupId: this.o.groupId,
      // Only committed alerts: the publisher writes alerts.submitted transactionally too.
      readUncommitted: false,
      maxBytesPerPartition: this.o.maxBytesPerPartition,
      ...CONSUMER_GROUP_TIMING,
      // KafkaJS heartbeats between fetches, so a fetch long-polling an idle partition's broker (5 s
      // by default) hid a rebalance from this member for up to that long, and every other instance's
      // join waited for it: 4–5 s of each gate restart in the fault tier. One heartbeat interval
      // (KafkaJS sends heartbeats no more often anyway) keeps the member's answer to a rebalance
      // within a second or two; half of it doubled an idle gate's fetches for no faster answer.
      maxWaitTimeInMs: CONSUMER_GROUP_TIMING.heartbeatInterval,
      allowAutoTopicCreation: false,
    });
  }

  /** The transactional id of the producer for one input partition. */
  transactionalIdFor(partition: number): string {
    return partitionTransactionalIdFor(this.o.groupId, this.o.topics.submitted, partition);
  }

  /**
   * The partition's producer, created and registered on first use. Registering (InitProducerId)
   * is what fences the partition's previous owner and settles its open transaction.
   */
  private producerFor(partition: number): Promise<Producer> {
    let p = this.producers.get(partition);
    if (!p) {
      const producer = createTransactionalProducer(this.o.kafka, this.transactionalIdFor(partition));
      const t0 = performance.now();
      p = startTransactionalProducer(producer).then(
        () => {
          this.o.logger.info({ partition, ms: Math.round(performance.now() - t0) }, 'partition producer registered');
          return producer;
        },
        async (err: unknown) => {
          this.producers.delete(partition);
          await producer.disconnect().catch(() => undefined);
          throw err;
        },
      );
      this.producers.set(partition, p);
    }
    return p;
  }

  /**
   * Drops a partition's producer: after a failed commit its transaction state may be stuck (e.g.
   * still COMMITTING), after fencing it is a zombie. The next use creates a fresh one, whose
   * InitProducerId gets a new epoch and aborts whatever the old one left open.
   */
  private async dropProducer(partition: number): Promise<void> {
    const p = this.producers.get(partition);
    this.producers.delete(partition);
    this.floors.delete(partition);
    this.ownCommitted.delete(partition);
    if (p) await p.then((producer) => producer.disconnect()).catch(() => undefined);
  }

  /** Why the consumer stopped for good, if it did (readiness reports it). */
  get failure(): Error | undefined {
    return this.fatal;
  }

  private setFatal(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.o.onFatal?.(err);
  }

  async start(): Promise<void> {
    loadGateCodecs();
    this.admin = this.o.kafka.admin();
    await this.admin.connect();
    this.running = true;
    try {
      // The consumer connects while the predecessor is being removed; only its join waits for that.
      await this.runConsumer(this.evictPredecessor());
    } catch (err) {
      this.running = false;
      await this.admin.disconnect().catch(() => undefined);
      throw err;
    }
    this.o.logger.info({ groupId: this.o.groupId, topic: this.o.topics.submitted }, 'policy gate consuming');
  }

  /**
   * Removes this instance's earlier process from the group if it is still a member (SIGKILLed, its
   * session not over yet). Not removing it only costs time: the group then waits for its session.
   */
  private async evictPredecessor(): Promise<void> {
    if (!this.o.member) return;
    await (this.o.member.evicted ?? evictGatePredecessor(this.o.member, this.o.groupId, this.o.logger));
  }

  /**
   * Creates, subscribes and runs a consumer; called at start and by the crash supervisor. The group
   * is joined (run) only once `beforeJoin` has settled: joining beside a predecessor that is still a
   * member would make the rebalance wait for it.
   */
  private async runConsumer(beforeJoin?: Promise<void>): Promise<void> {
    const consumer = this.createConsumer();
    this.consumer = consumer;
    superviseCrashes(consumer, {
      name: 'policy-gate',
      logger: this.o.logger,
      backoff: this.backoff,
      stopped: () => !this.running || this.dead,
      restart: () => this.runConsumer(),
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.onAssignment(event.payload.memberAssignment));
    await consumer.connect();
    await consumer.subscribe({ topic: this.o.topics.submitted, fromBeginning: true });
    await beforeJoin;
    await consumer.run({
      autoCommit: false,
      // KafkaJS would otherwise resolve the whole fetched batch after eachBatch returns, even
      // the records a failed transaction did not cover; offsets move only through sendOffsets.
      eachBatchAutoResolve: false,
      // Each input partition has its own producer and transaction, so partitions need not wait for
      // each other: one fetch's partitions overlap their PostgreSQL writes and Kafka round trips.
      // KafkaJS never hands two batches of one partition out at once, so order per partition holds.
      // Their transactions then interleave in the feed and audit partitions: KafkaJS readers need
      // patch 5 of scripts/patch-kafkajs.js to skip overlapping aborted transactions.
      partitionsConsumedConcurrently: this.o.partitionsConcurrently ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** A new generation: every partition's start is re-verified; producers of lost partitions go. */
  private onAssignment(assignment: Record<string, number[]>): void {
    this.floors.clear();
    const owned = new Set(assignment[this.o.topics.submitted] ?? []);
    this.joinedAt = performance.now();
    this.rejoinPending = undefined;
    this.firstCommitPending.clear();
    for (const partition of owned) this.firstCommitPending.add(partition);
    this.o.logger.info({ partitions: [...owned], uptimeMs: Math.round(performance.now()) }, 'partitions assigned');
    for (const partition of [...this.producers.keys()]) if (!owned.has(partition)) void this.dropProducer(partition);
    // Every owned partition's producer is registered now, all at once, not one by one as each
    // partition's first batch arrives: each registration connects and may have to wait for the
    // previous owner's open transaction to be aborted, and in series that held a restarted
    // instance up for many seconds. A failure here is only logged: the batch registers it again.
    for (const partition of owned) {
      this.producerFor(partition).catch((err: unknown) =>
        this.o.logger.warn({ err, partition }, 'producer for an assigned partition not registered yet; its first batch retries'),
      );
    }
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer?.disconnect().catch((err: unknown) => this.o.logger.warn({ err }, 'consumer disconnect failed'));
    for (const partition of [...this.producers.keys()]) await this.dropProducer(partition);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /**
   * KafkaJS fetched this partition's committed offset when the group was joined, which may be
   * before the previous owner's last transaction was settled. Once this instance's producer for
   * the partition is registered (so that transaction is committed or aborted), the committed
   * offset is read again; records below it were already handled by the previous owner.
   */
  private async floorOf(topic: string, partition: number): Promise<bigint> {
    await this.producerFor(partition);
    const known = this.floors.get(partition);
    if (known !== undefined) return known;
    const [offsets] = await this.admin!.fetchOffsets({ groupId: this.o.groupId, topics: [topic] });
    const fetched = BigInt(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
    const own = this.ownCommitted.get(partition);
    const committed = own !== undefined && own > fetched ? own : fetched;
    this.floors.set(partition, committed);
    return committed;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    if (this.dead) throw new InstanceVanished('instance is dead');
    const heartbeat = async (): Promise<void> => {
      try {
        await payload.heartbeat();
      } catch (err) {
        if (REJOIN_ERRORS.has(kafkaErrorType(err) ?? '')) this.rejoinPending ??= err as Error;
        throw err;
      }
    };
    const { maxBatchRecords } = this.o;
    let messages: KafkaMessage[] = batch.messages;
    // A restarted instance's first batch waits for its partition's producer to register (which
    // settles the previous owner's open transaction): heartbeating meanwhile keeps the membership it
    // just got; on a loaded machine the wait outlasted the session and the group rebalanced again.
    const floor = await heartbeatWhile(this.floorOf(batch.topic, batch.partition), heartbeat);
    // Nothing of this batch is resolved: whoever owns the partition after the rebalance fetches it
    // again. The heartbeat's error makes KafkaJS rejoin now rather than at its next heartbeat.
    if (this.rejoinPending) throw this.rejoinPending;
    const already = messages.filter((m) => BigInt(m.offset) < floor);
    if (already.length > 0) {
      this.o.logger.warn(
        { partition: batch.partition, skipped: already.length, committed: floor.toString() },
        'records committed by the previous owner skipped',
      );
      resolveOffset(already[already.length - 1]!.offset);
      messages = messages.filter((m) => BigInt(m.offset) >= floor);
    }
    for (let start = 0; start < messages.length; start += maxBatchRecords) {
      if (!isRunning() || isStale() || this.dead) return;
      if (this.rejoinPending) throw this.rejoinPending;
      const slice = messages.slice(start, start + maxBatchRecords);
      const records: InboundRecord[] = slice.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key ?? null,
        value: m.value ?? null,
        timestamp: m.timestamp,
        headers: m.headers,
      }));
      // The last slice covers the batch to its last offset, transaction markers after the last record
      // included: the publisher's lanes write a partition at once, so it can end with several markers,
      // and offsets that stop at the last record would leave the group short of the end for good.
      const through = start + maxBatchRecords >= messages.length ? batch.lastOffset() : slice[slice.length - 1]!.offset;
      // A transaction retried on CONCURRENT_TRANSACTIONS or a leader change can outlast the session too.
      await heartbeatWhile(this.processSliceSafely(records, batch.topic, batch.partition, (BigInt(through) + 1n).toString()), heartbeat);
      // Only now is the slice covered by a committed transaction: tell KafkaJS to fetch past it.
      resolveOffset(through);
      // Keeps the group membership alive across long batches. A rebalance surfacing here is
      // harmless: everything up to this point is committed.
      await heartbeat();
    }
  }

  /**
   * A transient failure (PostgreSQL or the broker down) goes to KafkaJS, which fetches the same
   * records again from the committed offsets: order kept, nothing lost. A permanent one (a record
   * PostgreSQL refuses, SQLSTATE class 22/23) would fail the same way for ever: the slice is then
   * split and each record tried alone; one that still fails after maxPermanentAttempts is
   * dead-lettered with reason UNSTORABLE in its own transaction (dead letter, DEAD_LETTERED audit
   * event and offset together: exactly once), and the partition goes on.
   */
  private async processSliceSafely(records: InboundRecord[], topic: string, partition: number, nextOffset: string): Promise<void> {
    try {
      await this.processSlice(records, topic, partition, nextOffset);
      return;
    } catch (err) {
      const failure = classifyFailure(err);
      this.o.consumerMetrics?.retried(topic, failure.label);
      if (failure.kind !== 'permanent') throw err;
      this.o.logger.warn(
        { topic, partition, records: records.length, reason: failure.label },
        'slice refused by PostgreSQL; processing its records one at a time',
      );
    }
    const maxAttempts = this.o.maxPermanentAttempts ?? 3;
    for (const record of records) {
      const next = (BigInt(record.offset) + 1n).toString();
      for (let attempt = 1; ; attempt++) {
        try {
          await this.processSlice([record], topic, partition, next);
          break;
        } catch (err) {
          const failure = classifyFailure(err);
          if (failure.kind !== 'permanent') throw err;
          if (attempt < maxAttempts) {
            this.o.consumerMetrics?.retried(topic, failure.label);
            continue;
          }
          this.o.logger.error(
            { topic, partition, offset: record.offset, reason: failure.parkReason, detail: failure.detail },
            'record refused by PostgreSQL; dead-lettered',
          );
          await this.processSlice([record], topic, partition, next, failure);
          this.o.consumerMetrics?.parked(topic, failure.parkReason);
          break;
        }
      }
    }
  }

  private async processSlice(
    records: InboundRecord[],
    topic: string,
    partition: number,
    nextOffset: string,
    poison?: ClassifiedFailure,
  ): Promise<void> {
    const decideTimer = this.o.metrics.decisionSeconds.startTimer();
    const decoded: DecodedRecord[] = poison
      ? records.map((record) => ({ record, failure: { reason: poison.parkReason, detail: poison.detail } }))
      : records.map(decodeInbound);
    // One span per alert (child of the publisher's, from the record's traceparent) from the start
    // of its batch to the commit; its context goes on every record the gate writes for the alert.
    const spans = new Map<string, Span>();
    for (const d of decoded) {
      if (!('alert' in d)) continue;
      const attributes = {
        [SPAN_ATTR.alertId]: d.alert.alertId,
        [SPAN_ATTR.alertVersion]: d.alert.version,
        [SPAN_ATTR.records]: records.length,
      };
      spans.set(d.alert.alertId, tracer().startSpan(SPANS.gateCommitted, { attributes }, contextFromHeaders(d.record.headers)));
    }
    try {
      await this.decideAndCommit(records, decoded, spans, topic, partition, nextOffset, decideTimer);
    } finally {
      for (const span of spans.values()) span.end();
    }
  }

  private async decideAndCommit(
    records: InboundRecord[],
    decoded: DecodedRecord[],
    spans: ReadonlyMap<string, Span>,
    topic: string,
    partition: number,
    nextOffset: string,
    decideTimer: () => number,
  ): Promise<void> {
    const past = await this.o.repository.pastRecipients(alertIdsOf(decoded));
    const assembled = assembleBatch(decoded, {
      service: SERVICE,
      topics: this.o.topics,
      policy: this.o.policy,
      codecs: this.codecs,
      now: new Date(),
      pastRecipients: past,
    });
    decideTimer();
    const txnTimer = this.o.metrics.transactionSeconds.startTimer();
    // PostgreSQL first, Kafka second. If we die between the two, PostgreSQL holds history for
    // deliveries whose transaction never committed: a superset. The batch is then redelivered
    // (its offsets were not committed) and its rows are upserted again, so nothing is lost and
    // nothing doubles. The other order could lose history of a committed delivery, and a later
    // Update or Cancel would then miss a recipient that holds the alert.
    await this.o.repository.recordBatch(assembled);
    // Every record of one alert (one per recipient, plus its audit event) carries the same trace
    // context: built once per alert, not once per record.
    const headersByAlert = new Map<string, Record<string, string> | undefined>();
    const headersOf = (key: string | Buffer | null): Record<string, string> | undefined => {
      if (key === null) return undefined;
      const alertId = key.toString();
      if (headersByAlert.has(alertId)) return headersByAlert.get(alertId);
      const span = spans.get(alertId);
      const headers = span ? traceHeaders(trace.setSpan(contextFromHeaders(undefined), span)) : undefined;
      headersByAlert.set(alertId, headers);
      return headers;
    };
    await this.commitTransaction(assembled, records.length, topic, partition, nextOffset, headersOf);
    txnTimer();
    this.o.metrics.batchSize.observe(records.length);
    this.o.metrics.committed(assembled.stats);
  }

  private async commitTransaction(
    assembled: AssembledBatch,
    records: number,
    topic: string,
    partition: number,
    nextOffset: string,
    headersOf?: (key: string | Buffer | null) => Record<string, string> | undefined,
  ): Promise<void> {
    const topicMessages = topicMessagesOf(assembled.messages, headersOf);
    for (let attempt = 0; ; attempt++) {
      let committing = false;
      let txn: Awaited<ReturnType<Producer['transaction']>> | undefined;
      try {
        const producer = await this.producerFor(partition);
        txn = await producer.transaction();
        if (topicMessages.length > 0) await txn.sendBatch({ topicMessages });
        await txn.sendOffsets({ consumerGroupId: this.o.groupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
        if ((await this.o.commitHook?.beforeCommit({ records, partition })) === 'vanish') {
          throw new InstanceVanished('the commit hook stopped this instance between send and commit');
        }
        // Another partition's commit hook may have stopped this instance while this one was sending:
        // a dead process commits nothing more.
        if (this.dead) throw new InstanceVanished('instance stopped by a commit hook on another partition');
        committing = true;
        await txn.commit();
        this.ownCommitted.set(partition, BigInt(nextOffset));
        if (this.firstCommitPending.delete(partition)) {
          this.o.logger.info(
            { partition, sinceAssignedMs: Math.round(performance.now() - this.joinedAt) },
            'first transaction committed since assignment',
          );
        }
        return;
      } catch (err) {
        if (err instanceof InstanceVanished) {
          // A dead process neither aborts nor commits; its successor's InitProducerId aborts.
          this.dead = true;
          this.setFatal(err);
          throw err;
        }
        const type = kafkaErrorType(err);
        if (type !== undefined && FENCED_ERRORS.has(type)) {
          this.o.metrics.retried('FENCED');
          this.o.logger.warn(
            { err, partition, transactionalId: this.transactionalIdFor(partition) },
            'partition taken over by another instance; its batch is theirs',
          );
          await this.dropProducer(partition);
          throw new FencedError(`partition ${partition} fenced by a newer owner of ${this.transactionalIdFor(partition)}`, { cause: err });
        }
        if (!committing && txn) {
          const aborted = await txn.abort().then(
            () => true,
            (abortErr: unknown) => {
              this.o.logger.warn({ err: abortErr, partition }, 'abort failed; the partition gets a new producer');
              return false;
            },
          );
          // A producer whose abort failed is left ABORTING, and every later transaction of it
          // fails for good ("Cannot call beginTransaction in state ABORTING"): that crashed the
          // consumer in the fault tier's broker-sigstop scenario. A new producer registers the
          // transactional id again, which aborts whatever this one left open, so the retry below
          // (or the redelivery) runs on a clean transaction. Nothing was committed: not committing.
          if (!aborted) await this.dropProducer(partition);
        }
        // A failed commit is not retried in place: it may have succeeded on the broker. The
        // error goes to KafkaJS, which fetches again, and the partition's start is re-verified
        // against the committed offset, so a batch that did commit is not redone and one that
        // did not is.
        const retriable = !committing && type !== undefined && RETRIABLE_TXN_ERRORS.has(type);
        if (!retriable || attempt >= this.o.txnRetries) {
          this.o.logger.error({ err, type, attempt, topic, partition }, 'transaction failed; batch left for redelivery');
          await this.dropProducer(partition);
          throw err;
        }
        this.o.metrics.retried(type);
        const delayMs = Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.o.logger.warn({ type, attempt, delayMs }, 'retriable transaction error; retrying');
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

/** The group member this process joins as: its own client, named after the gate instance. */
export interface GateMember {
  kafka: Kafka;
  clientId: string;
  /** The predecessor's removal, when it was started before the consumer (main.ts starts it before Nest). */
  evicted?: Promise<void>;
}

/**
 * Removes this instance's earlier process from the group if it is still a member (SIGKILLed, its
 * session not over yet). Never rejects: not removing it only costs time, the group then waits for
 * its session. A few broker round trips, so main.ts starts it before Nest's start-up, beside it.
 */
export async function evictGatePredecessor(member: GateMember, groupId: string, logger: Logger): Promise<void> {
  try {
    const evicted = await evictPredecessors(member.kafka, groupId, member.clientId);
    if (evicted.length > 0) logger.info({ evicted, groupId }, "this instance's previous process removed from the group");
  } catch (err) {
    logger.warn({ err }, 'previous process not removed from the group; the rebalance waits for its session');
  }
}
