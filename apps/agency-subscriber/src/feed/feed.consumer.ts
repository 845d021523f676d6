import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { LOGGER, type Logger } from '@backbone/bootstrap';
import { alertCodec, deliveryCodec, type Alert, type Delivery } from '@backbone/codec';
import {
  CONSUMER_GROUP_TIMING,
  ConsumerStoppingError,
  evictPredecessors,
  KAFKA,
  PermanentRecordError,
  RestartBackoff,
  superviseCrashes,
  type ConsumerSafety,
  type FailedRecord,
  type GuardControl,
} from '@backbone/kafka';
import { contextFromHeaders, SPAN_ATTR, SPANS, tracer, type KafkaHeaders } from '@backbone/telemetry';
import type { AuditRelay } from '../audit/audit.relay.js';
import type { InboxStore } from '../inbox/inbox.store.js';
import { AUDIT_RELAY, CONSUMER_SAFETY, FEED_WIRING, INBOX_STORE } from '../subscriber.tokens.js';

/** Most records stored in one PostgreSQL transaction; a larger fetched batch is stored in chunks of this. */
export const FEED_CHUNK_MAX = 500;

/** The names the feed consumer needs from the subscriber's wiring. */
export interface FeedWiring {
  readonly feedTopic: string;
  readonly groupId: string;
  /** The Kafka client id its members join under (`agency-subscriber-<agency>`): how a restart knows its predecessor. */
  readonly clientId: string;
}

interface FeedRecord extends FailedRecord {
  headers: KafkaHeaders | undefined;
}

interface DecodedRecord extends FeedRecord {
  delivery: Delivery;
  alert: Alert;
}

/** Where a chunk got to: the offset of the last record stored, parked or ignored. */
interface Progress {
  last: string | undefined;
}

/**
 * The subscriber's Kafka side: a KafkaJS consumer of the agency's feed (read_committed: only what
 * the gate's transactions committed), owned by this provider: started when the application boots
 * (a consumer that cannot connect fails the start), stopped before it shuts down.
 *
 * Each fetched batch (one partition) is stored in chunks of up to FEED_CHUNK_MAX records, each
 * chunk in ONE PostgreSQL transaction (InboxStore.storeDeliveries); the offset is committed only
 * after that transaction committed, and the desk streams hear of the new rows from PostgreSQL
 * after the commit (NOTIFY). A crash in between redelivers the chunk, and the store's
 * (alertId, version) key makes the redelivery add nothing: each version is stored exactly once.
 *
 * Failures, with the shared RecordGuard (@backbone/kafka): a record that does not decode is sent
 * alone through the guard, which parks it (after CONSUMER_MAX_ATTEMPTS) with its reason and
 * original bytes, also kept in rejected_records; the records around it are stored as usual. When a
 * chunk's transaction fails, the chunk is halved until the failing record is alone, and that one
 * goes through the guard: a transient failure (PostgreSQL down) is retried in place with back-off,
 * so the partition keeps its order and nothing is lost; a permanent one (PostgreSQL refuses its
 * data, e.g. a NUL in the headline) is parked and the feed goes on. One bad record never blocks nor
 * loses its neighbours. A KafkaJS crash it does not restart itself is restarted in-process with
 * back-off (superviseCrashes).
 */
@Injectable()
export class FeedConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: Consumer | undefined;
  private stopped = false;
  private readonly backoff = new RestartBackoff();
  /**
   * Fault injection for tests: runs after a chunk's transaction committed and before its offset is
   * committed. A throw here is a crash at the worst moment (stored, offset not yet committed).
   */
  afterStore: (() => Promise<void>) | undefined;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(FEED_WIRING) private readonly wiring: FeedWiring,
    @Inject(INBOX_STORE) private readonly inbox: InboxStore,
    @Inject(AUDIT_RELAY) private readonly relay: AuditRelay,
    @Inject(CONSUMER_SAFETY) private readonly safety: ConsumerSafety,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  /** Before the database closes: retries let go, the member leaves its group, nothing half-done is committed. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.safety.stopRetrying();
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'feed consumer disconnect failed'));
  }

  /**
   * A SIGKILLed subscriber stays a member of its group until its session times out, and the
   * restarted one's join waited for that. Its members are found by the client id they share and
   * removed at once (LeaveGroup on their behalf, as for the gate). Should two processes serve one
   * agency, the live one is only made to rejoin: offsets are committed after the inbox, so a
   * rebalance loses and doubles nothing. A failure only costs time.
   */
  private async evictPredecessors(): Promise<void> {
    const { groupId, clientId } = this.wiring;
    try {
      const evicted = await evictPredecessors(this.kafka, groupId, clientId);
      if (evicted.length > 0) this.logger.info({ evicted, groupId }, 'previous feed consumer removed from the group');
    } catch (err) {
      this.logger.warn({ err }, 'previous feed consumer not removed from the group; the join waits for its session');
    }
  }

  private async start(): Promise<void> {
    const { feedTopic, groupId } = this.wiring;
    // Removed while this consumer connects; the join (run) waits for it, as a join beside a member
    // that is still listed would wait for that member's session.
    const evicted = this.evictPredecessors();
    // Group timing shared by every consumer: a restarted subscriber is back within seconds.
    const consumer = this.kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false, ...CONSUMER_GROUP_TIMING });
    this.consumer = consumer;
    superviseCrashes(consumer, {
      name: `feed ${groupId}`,
      logger: this.logger,
      backoff: this.backoff,
      stopped: () => this.stopped,
      restart: async () => {
        await consumer.disconnect().catch(() => undefined);
        if (!this.stopped) await this.start();
      },
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: feedTopic, fromBeginning: true });
      await evicted;
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(consumer, payload) });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private async onBatch(consumer: Consumer, { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const live = (): boolean => !this.stopped && isRunning() && !isStale();
    const control: GuardControl = { heartbeat, isRunning: live };
    const commit = async (offset: string): Promise<void> => {
      // Resolve (KafkaJS's in-memory position, else it fetches the records again) and commit, both
      // only after the PostgreSQL commit: the committed offset never runs ahead of the inbox.
      resolveOffset(offset);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }]);
    };
    for (let from = 0; from < batch.messages.length; from += FEED_CHUNK_MAX) {
      if (!live()) return;
      const chunk = batch.messages.slice(from, from + FEED_CHUNK_MAX).map((m) => feedRecord(batch.topic, batch.partition, m));
      const progress: Progress = { last: undefined };
      try {
        await this.storeChunk(chunk, control, progress);
      } catch (err) {
        // Stopping or rebalancing: what is stored is committed, the rest is fetched again by whoever owns the partition.
        if (!(err instanceof ConsumerStoppingError)) throw err;
        if (progress.last !== undefined)
          await commit(progress.last).catch((commitErr: unknown) =>
            this.logger.warn({ err: commitErr, partition: batch.partition }, 'offset commit while stopping failed; the records come again'),
          );
        return;
      }
      await this.afterStore?.();
      // The whole batch stored: commit through its last offset, transaction markers after the last
      // record included. Several gate producers write a feed partition at once, so it can end with
      // several markers; committing only up to the last record would leave the group short of the
      // end for good (lag that never clears, a caught-up partition reported stalled).
      const done = from + FEED_CHUNK_MAX >= batch.messages.length;
      await commit(done ? batch.lastOffset() : chunk[chunk.length - 1]!.offset);
      await heartbeat();
    }
  }

  /** Runs of decodable records are stored together; an undecodable record goes alone through the guard, in its place. */
  private async storeChunk(records: readonly FeedRecord[], control: GuardControl, progress: Progress): Promise<void> {
    let run: DecodedRecord[] = [];
    for (const record of records) {
      const decoded = decodeRecord(record);
      if (decoded instanceof Error) {
        await this.storeRun(run, control, progress);
        run = [];
        await this.guarded(record, () => Promise.reject(decoded), control, progress);
      } else {
        run.push(decoded);
      }
    }
    await this.storeRun(run, control, progress);
  }

  /** One transaction for the run; if it fails, each half on its own, down to the one record that fails. */
  private async storeRun(run: readonly DecodedRecord[], control: GuardControl, progress: Progress): Promise<void> {
    if (run.length === 0) return;
    if (run.length === 1) {
      const only = run[0]!;
      await this.guarded(only, () => this.storeTogether(run), control, progress);
      return;
    }
    try {
      await this.storeTogether(run);
      progress.last = run[run.length - 1]!.offset;
      return;
    } catch (err) {
      this.logger.warn(
        { err, topic: run[0]!.topic, partition: run[0]!.partition, from: run[0]!.offset, records: run.length },
        'feed chunk failed; storing each half on its own to isolate the failing record',
      );
    }
    const half = Math.ceil(run.length / 2);
    await this.storeRun(run.slice(0, half), control, progress);
    await this.storeRun(run.slice(half), control, progress);
  }

  private async guarded(record: FeedRecord, work: () => Promise<void>, control: GuardControl, progress: Progress): Promise<void> {
    // ConsumerStoppingError (the consumer is stopping or lost the partition) goes up: the record stays uncommitted.
    await this.safety.guard.process(record, work, control);
    progress.last = record.offset;
  }

  private async storeTogether(run: readonly DecodedRecord[]): Promise<void> {
    const startTime = Date.now();
    const outcomes = await this.inbox.storeDeliveries(run.map(({ delivery, alert }) => ({ delivery, alert })));
    const endTime = Date.now();
    let stored = 0;
    run.forEach((r, i) => {
      const outcome = outcomes[i]!;
      const where = { topic: r.topic, partition: r.partition, offset: r.offset, alertId: r.delivery.alertId };
      // One span per record, child of the gate's span (the record's traceparent header), covering
      // the transaction that stored it: the record's "subscriber stored" stage ends at its commit.
      tracer()
        .startSpan(
          SPANS.subscriberStored,
          {
            startTime,
            attributes: {
              [SPAN_ATTR.alertId]: r.delivery.alertId,
              [SPAN_ATTR.alertVersion]: r.delivery.alertVersion,
              [SPAN_ATTR.agency]: r.delivery.recipient,
              [SPAN_ATTR.records]: run.length,
            },
          },
          contextFromHeaders(r.headers),
        )
        .end(endTime);
      if (outcome.stored) {
        stored++;
        this.logger.debug({ ...where, version: r.delivery.alertVersion, seq: outcome.seq, effect: outcome.effect }, 'delivery stored');
      } else if (outcome.reason === 'WRONG_RECIPIENT') {
        this.logger.error({ ...where, recipient: r.delivery.recipient }, 'delivery for another agency ignored');
      } else {
        this.logger.debug({ ...where, version: r.delivery.alertVersion, replay: r.delivery.replay }, 'duplicate delivery ignored');
      }
    });
    if (stored > 0) {
      this.logger.info(
        { topic: run[0]!.topic, partition: run[0]!.partition, from: run[0]!.offset, records: run.length, stored },
        'deliveries stored',
      );
      this.relay.kick();
    }
  }
}

function feedRecord(topic: string, partition: number, m: KafkaMessage): FeedRecord {
  return { topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers: m.headers as KafkaHeaders | undefined };
}

/** The delivery and the alert it carries, or the permanent error that makes the record unprocessable. */
function decodeRecord(record: FeedRecord): DecodedRecord | Error {
  try {
    if (!record.value) throw new PermanentRecordError('UNDECODABLE', 'record has no value');
    const delivery = deliveryCodec.decode(record.value);
    const alert = alertCodec.decode(delivery.alert);
    if (alert.alertId !== delivery.alertId || alert.version !== delivery.alertVersion) {
      throw new PermanentRecordError(
        'INVALID_RECORD',
        `alert ${alert.alertId} v${alert.version} does not match delivery ${delivery.alertId} v${delivery.alertVersion}`,
      );
    }
    return { ...record, delivery, alert };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
