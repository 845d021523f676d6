import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { classifyFailure, type ClassifiedFailure, type ConsumerMetrics, type TopicNames } from '@backbone/kafka';
import { alertIdsOf, assembleBatch, type AssembledBatch, type DecodedRecord, type InboundRecord } from './batch.assembler.js';
import { decodeInbound, gateCodecs } from './gate.codecs.js';
import type { GateMetrics } from './gate.metrics.js';
import type { GatePolicy } from './gate-policy.port.js';
import type { GateRepository } from './gate.repository.js';
import { transactionalIdFor } from './policy-gate.config.js';
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

/** Another instance took over this transactional id: this one is a zombie and must stop. */
const FENCED_ERRORS = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

export interface PolicyGateConsumerOptions {
  kafka: Kafka;
  topics: TopicNames;
  policy: GatePolicy;
  repository: GateRepository;
  metrics: GateMetrics;
  logger: Logger;
  instanceId: string;
  groupId: string;
  maxBatchRecords: number;
  maxBytesPerPartition: number;
  txnRetries: number;
  /** Attempts of a record PostgreSQL refuses (SQLSTATE class 22/23) before it is dead-lettered in the batch's transaction. */
  maxPermanentAttempts?: number;
  /** Shared consumer series (parked by reason, retries by reason); the gate's own series stay in GateMetrics. */
  consumerMetrics?: ConsumerMetrics;
  /** Called once when the instance stops for good (fenced, or KafkaJS gave up restarting). */
  onFatal?: (err: Error) => void;
  /** Optional port awaited just before each commit (see CommitHook). */
  commitHook?: CommitHook;
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
  private readonly consumer: Consumer;
  private producer: Producer;
  private running = false;
  private dead = false;
  private fatal: Error | undefined;

  constructor(private readonly o: PolicyGateConsumerOptions) {
    this.consumer = o.kafka.consumer({
      groupId: o.groupId,
      // Only committed alerts: the publisher writes alerts.submitted transactionally too.
      readUncommitted: false,
      maxBytesPerPartition: o.maxBytesPerPartition,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
    });
    this.producer = this.createProducer();
  }

  private createProducer(): Producer {
    return createTransactionalProducer(this.o.kafka, transactionalIdFor(this.o.instanceId));
  }

  /**
   * After a failed commit or an unexpected error, KafkaJS's transaction state may be stuck
   * (e.g. still COMMITTING). A fresh producer with the same transactional id gets a new epoch
   * from InitProducerId, which also aborts whatever the old one left open.
   */
  private async resetProducer(): Promise<void> {
    const old = this.producer;
    await old.disconnect().catch(() => undefined);
    this.producer = this.createProducer();
    await this.connectProducer();
  }

  /**
   * Registers the transactional id before anything is consumed (see startTransactionalProducer):
   * the broker aborts whatever a previous incarnation of this instance left open and fences it.
   */
  private async connectProducer(): Promise<void> {
    await startTransactionalProducer(this.producer);
  }

  get transactionalId(): string {
    return transactionalIdFor(this.o.instanceId);
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
    await this.connectProducer();
    await this.consumer.connect();
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (!event.payload.restart && !this.dead) {
        this.o.logger.fatal({ err: event.payload.error }, 'gate consumer crashed and will not restart');
        this.setFatal(event.payload.error);
      }
    });
    await this.consumer.subscribe({ topic: this.o.topics.submitted, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      // KafkaJS would otherwise resolve the whole fetched batch after eachBatch returns, even
      // the records a failed transaction did not cover; offsets move only through sendOffsets.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.o.logger.info({ transactionalId: this.transactionalId, groupId: this.o.groupId, topic: this.o.topics.submitted }, 'policy gate consuming');
  }

  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect().catch((err: unknown) => this.o.logger.warn({ err }, 'consumer disconnect failed'));
    await this.producer.disconnect().catch((err: unknown) => this.o.logger.warn({ err }, 'producer disconnect failed'));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, resolveOffset, isRunning, isStale } = payload;
    if (this.dead) throw new InstanceVanished('instance is dead');
    const { maxBatchRecords } = this.o;
    for (let start = 0; start < batch.messages.length; start += maxBatchRecords) {
      if (!isRunning() || isStale() || this.dead) return;
      const slice = batch.messages.slice(start, start + maxBatchRecords);
      const records: InboundRecord[] = slice.map((m) => ({
        topic: batch.topic,
        partition: batch.partition,
        offset: m.offset,
        key: m.key ?? null,
        value: m.value ?? null,
        timestamp: m.timestamp,
      }));
      const last = slice[slice.length - 1]!;
      await this.processSliceSafely(records, batch.topic, batch.partition, (BigInt(last.offset) + 1n).toString());
      // Only now is the slice covered by a committed transaction: tell KafkaJS to fetch past it.
      resolveOffset(last.offset);
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
      this.o.logger.warn({ topic, partition, records: records.length, reason: failure.label }, 'slice refused by PostgreSQL; processing its records one at a time');
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
          this.o.logger.error({ topic, partition, offset: record.offset, reason: failure.parkReason, detail: failure.detail }, 'record refused by PostgreSQL; dead-lettered');
          await this.processSlice([record], topic, partition, next, failure);
          this.o.consumerMetrics?.parked(topic, failure.parkReason);
          break;
        }
      }
    }
  }

  private async processSlice(records: InboundRecord[], topic: string, partition: number, nextOffset: string, poison?: ClassifiedFailure): Promise<void> {
    const decideTimer = this.o.metrics.decisionSeconds.startTimer();
    const decoded: DecodedRecord[] = poison
      ? records.map((record) => ({ record, failure: { reason: poison.parkReason, detail: poison.detail } }))
      : records.map(decodeInbound);
    const past = await this.o.repository.pastRecipients(alertIdsOf(decoded));
    const assembled = assembleBatch(decoded, {
      service: SERVICE,
      topics: this.o.topics,
      policy: this.o.policy,
      codecs: gateCodecs,
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
    await this.commitTransaction(assembled, records.length, topic, partition, nextOffset);
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
  ): Promise<void> {
    const topicMessages = topicMessagesOf(assembled.messages);
    for (let attempt = 0; ; attempt++) {
      const txn = await this.producer.transaction();
      let committing = false;
      try {
        if (topicMessages.length > 0) await txn.sendBatch({ topicMessages });
        await txn.sendOffsets({ consumerGroupId: this.o.groupId, topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }] });
        if ((await this.o.commitHook?.beforeCommit({ records, partition })) === 'vanish') {
          throw new InstanceVanished('the commit hook stopped this instance between send and commit');
        }
        committing = true;
        await txn.commit();
        return;
      } catch (err) {
        if (err instanceof InstanceVanished) {
          // A dead process neither aborts nor commits; its successor's InitProducerId aborts.
          this.dead = true;
          throw err;
        }
        const type = kafkaErrorType(err);
        if (type !== undefined && FENCED_ERRORS.has(type)) {
          const fenced = new FencedError(`fenced by a newer instance with transactional id ${this.transactionalId}`);
          this.o.logger.fatal({ err, transactionalId: this.transactionalId }, 'producer fenced; stopping this instance');
          this.dead = true;
          this.setFatal(fenced);
          void this.close();
          throw fenced;
        }
        if (!committing) await txn.abort().catch((abortErr: unknown) => this.o.logger.warn({ err: abortErr }, 'abort failed'));
        // A failed commit is not retried in place: it may have succeeded on the broker. The
        // error goes to KafkaJS, which fetches again from the committed offsets, so a batch
        // that did commit is not redone and one that did not is.
        const retriable = !committing && type !== undefined && RETRIABLE_TXN_ERRORS.has(type);
        if (!retriable || attempt >= this.o.txnRetries) {
          this.o.logger.error({ err, type, attempt, topic, partition }, 'transaction failed; batch left for redelivery');
          await this.resetProducer().catch((resetErr: unknown) => this.o.logger.error({ err: resetErr }, 'producer reset failed'));
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
