import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from '@backbone/bootstrap';
import { auditEventCodec, type AuditEvent, type EventKeyring } from '@backbone/codec';
import {
  CONSUMER_GROUP_TIMING,
  ConsumerStoppingError,
  evictGroupMembers,
  RestartBackoff,
  superviseCrashes,
  type RecordGuard,
} from '@backbone/kafka';
import { inSpan, SPAN_ATTR, SPANS } from '@backbone/telemetry';
import { forgeryOf } from '@backbone/ledger';
import { parkForged, type ForgedRecord } from './event.screen.js';
import { planResume, type ResumePlan } from './ledger.positions.js';
import { decodeAuditRecord, type AppendResult, type IncomingRecord, type LedgerWriter } from './ledger.writer.js';

/** Signature checking: the public event keys and where forged events are parked. */
export interface IngestScreen {
  keyring: EventKeyring;
  producer: Producer;
  deadLetterTopic: string;
  /** Called once per forged event (the forged-events metric). */
  onForged?: (why: string) => void;
}

export interface IngestStats {
  inserted: number;
  duplicates: number;
  batches: number;
  /** Parked as forged, never entered in the ledger. */
  forged: number;
  /** Records parked (a placeholder row holds their position in the ledger). */
  parked: number;
}

/**
 * Consumes audit.events with eachBatch, partitions concurrently. Each KafkaJS batch (one partition)
 * is written in one PG transaction, shared with the other partitions' batches that arrive while
 * one is being written (the writer's group commit); the Kafka offset is committed only after that
 * transaction commits. A crash in
 * between redelivers the batch, and the UNIQUE (topic, partition, offset) position — checked
 * under the ledger lock — makes the redelivery add nothing.
 *
 * When a batch fails, its records go one at a time through the shared RecordGuard: a transient
 * failure (PostgreSQL down) is retried in place, in order; a record PostgreSQL can never store
 * (e.g. a NUL in a string, SQLSTATE 22P05) is parked on the audit logger's dead-letter topic and
 * a placeholder row with its original bytes takes its position in the chain, so the ledger has
 * no hole, compliance sees it (verify counts it) and the partition goes on.
 */
export class AuditIngestConsumer {
  private consumer: Consumer | undefined;
  private plan: ResumePlan | undefined;
  private stopped = false;
  private readonly backoff = new RestartBackoff();
  /** The connection holding the ingest's claim (see claimSingleton), while it holds it. */
  private claim: pg.PoolClient | undefined;
  /** The claim attempt in progress, shared by every caller (see claimSingleton). */
  private claiming: Promise<void> | undefined;
  private reclaiming: Promise<void> | undefined;
  private claimFailure: Error | undefined;
  /** Members of the group removed at the last start: earlier processes of this audit logger. */
  evictedAtStart: string[] = [];
  readonly stats: IngestStats = { inserted: 0, duplicates: 0, batches: 0, forged: 0, parked: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly writer: LedgerWriter,
    private readonly logger: Logger,
    private readonly guard: RecordGuard,
    private readonly pool: pg.Pool,
    /** Without it every decodable event is entered (tests of the ledger alone); services always pass one. */
    private readonly screen?: IngestScreen,
    /** How long a start waits for another audit logger to give the claim up before it refuses. */
    private readonly claimWaitMs: number = CLAIM_WAIT_MS,
  ) {}

  /** Why the ingest stopped for good (another audit logger took the claim over), if it did; readiness reports it. */
  get failure(): Error | undefined {
    return this.claimFailure;
  }

  /** The `topic` new ledger rows carry (the Kafka topic, or `<topic>#g<n>` after the topic was recreated). */
  get ledgerTopic(): string {
    return this.plan?.ledgerTopic ?? this.topic;
  }

  /** Where this start resumed (tests, logs). */
  get resumePlan(): ResumePlan | undefined {
    return this.plan;
  }

  async start(): Promise<void> {
    // Positions come from the ledger (see ledger.positions.ts); the group's committed offsets are
    // overwritten with them before the consumer joins, so Kafka can neither skip nor repeat.
    await this.claimSingleton();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      this.plan = await planResume(this.pool, admin, this.topic);
      // Holding the claim, this process is the only live audit logger of the group: any member
      // still listed is an earlier process killed before its session ended (KafkaJS has no static
      // membership). Removed now, the group is empty at once instead of after that session.
      this.evictedAtStart = await evictGroupMembers(this.kafka, this.groupId, () => true).catch((err: unknown) => {
        this.logger.warn({ err }, 'earlier audit ingest members not removed; waiting for their session to end');
        return [];
      });
      if (this.evictedAtStart.length > 0)
        this.logger.info(
          { evicted: this.evictedAtStart, groupId: this.groupId },
          "this audit logger's previous process removed from the group",
        );
      await waitForEmptyGroup(admin, this.groupId, this.logger);
      await admin.setOffsets({ groupId: this.groupId, topic: this.topic, partitions: this.plan.partitions });
    } finally {
      await admin.disconnect();
    }
    if (this.plan.recreated) {
      this.logger.warn(
        { topic: this.topic, generation: this.plan.generation, ledgerTopic: this.plan.ledgerTopic },
        'audit topic was recreated; new ledger generation',
      );
    }
    this.logger.info({ topic: this.topic, partitions: this.plan.partitions }, 'audit ingest resumes from the ledger positions');
    this.stopped = false;
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      maxBytesPerPartition: 4 * 1024 * 1024,
      readUncommitted: false,
      ...CONSUMER_GROUP_TIMING,
    });
    this.consumer = consumer;
    // A broker or PostgreSQL outage that outlasts KafkaJS's retries restarts ingest in-process.
    superviseCrashes(consumer, {
      name: 'audit-ingest',
      logger: this.logger,
      backoff: this.backoff,
      stopped: () => this.stopped,
      restart: () => this.start(),
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // The partitions of a fetch are handled at once and the writer commits their batches in one
      // transaction (group commit); each partition's offset is still committed only after the
      // transaction holding its rows.
      partitionsConsumedConcurrently: INGEST_PARTITIONS_CONCURRENTLY,
      eachBatch: (payload) => this.onBatch(consumer, payload),
    });
  }

  private async onBatch(consumer: Consumer, { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    // Forged events are parked (before the commit) and never reach the ledger; the rest are decoded once.
    const records = await this.screenBatch(batch.topic, batch.partition, batch.messages);
    if (records.length === 0) {
      resolveOffset(batch.lastOffset());
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
      ]);
      await heartbeat();
      return;
    }
    let result: AppendResult | undefined;
    try {
      result = await inSpan(SPANS.auditIngested, { [SPAN_ATTR.records]: records.length }, () =>
        this.writer.append(this.ledgerTopic, batch.partition, records),
      );
      this.count(result);
    } catch (err) {
      this.logger.warn(
        { err, partition: batch.partition, records: records.length },
        'audit batch failed; appending its records one at a time',
      );
    }
    if (!result) {
      for (const r of records) {
        if (!isRunning() || isStale()) return;
        try {
          const outcome = await this.guard.process(
            { topic: batch.topic, partition: batch.partition, offset: r.offset, key: r.key ?? null, value: r.value },
            async () => this.count(await this.writer.append(this.ledgerTopic, batch.partition, [r])),
            { heartbeat, isRunning: () => isRunning() && !isStale() },
          );
          if (!outcome.processed) this.stats.parked++;
        } catch (err) {
          // Stopping or rebalancing: what is done is committed below, the rest is fetched again.
          if (err instanceof ConsumerStoppingError) return;
          throw err;
        }
        resolveOffset(r.offset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(r.offset) + 1n).toString() }]);
      }
      // Past any forged records after the last accepted one (already parked above).
      resolveOffset(batch.lastOffset());
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
      ]);
      this.stats.batches++;
      await heartbeat();
      return;
    }
    this.stats.batches++;
    if (result.duplicates > 0)
      this.logger.info({ partition: batch.partition, duplicates: result.duplicates }, 'skipped redelivered audit events');
    // Resolve (KafkaJS's in-memory position, else it fetches the batch again) and commit,
    // both only after the PG commit: the committed offset never runs ahead of the ledger.
    resolveOffset(batch.lastOffset());
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    await heartbeat();
  }

  private count(result: AppendResult): void {
    this.stats.inserted += result.inserted;
    this.stats.duplicates += result.duplicates;
  }

  /** Parks forged events (before the commit) and returns the rest, decoded once. */
  private async screenBatch(
    topic: string,
    partition: number,
    messages: readonly { offset: string; key: Buffer | null; value: Buffer | null }[],
  ): Promise<(IncomingRecord & { key: Buffer | null })[]> {
    const screen = this.screen;
    const accepted: (IncomingRecord & { key: Buffer | null })[] = [];
    const forged: ForgedRecord[] = [];
    for (const m of messages) {
      let event: AuditEvent;
      let undecodable = false;
      try {
        if (m.value === null) throw new Error('tombstone');
        event = auditEventCodec.decode(m.value);
      } catch {
        // Entered as UNKNOWN by the audit logger itself with the raw bytes (nothing lost), never as genuine.
        undecodable = true;
        event = decodeAuditRecord(m.value);
      }
      const why = screen && !undecodable ? forgeryOf(event, screen.keyring) : null;
      if (why === null) accepted.push({ offset: m.offset, key: m.key, value: m.value, event });
      else forged.push({ topic, partition, offset: m.offset, key: m.key, value: m.value, why });
    }
    if (screen && forged.length > 0) {
      await parkForged(screen.producer, screen.deadLetterTopic, forged);
      this.stats.forged += forged.length;
      for (const f of forged) {
        screen.onForged?.(f.why);
        this.logger.warn({ partition, offset: f.offset, why: f.why }, 'forged audit event parked');
      }
    }
    return accepted;
  }

  async stop(): Promise<void> {
    this.guard.stop();
    this.stopped = true;
    await this.consumer?.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'consumer disconnect failed'));
    this.consumer = undefined;
    // Destroyed, not returned to the pool: the session lock goes with the connection.
    this.claim?.release(true);
    this.claim = undefined;
  }

  /**
   * The ingest must be its group's only consumer: its resume plan sets the group's offsets from the
   * ledger, which the broker allows only while the group is empty. The claim is a PostgreSQL session
   * advisory lock on the ledger's database, held for the life of the process on a connection of its
   * own; PostgreSQL releases it the moment that process's connection closes, SIGKILL included. So a
   * process holding it knows every other member of its group is dead and may remove them, and a
   * second audit logger waits for the claim and then refuses to start, naming the reason.
   */
  private claimSingleton(): Promise<void> {
    if (this.claim) return Promise.resolve();
    // One attempt at a time. Two attempts of this one process (the ingest restarted by its supervisor
    // while a lost claim is being claimed again) are two connections, and the one that does not get
    // the lock would find it held, by its own process, and after the wait take that for a rival.
    if (!this.claiming) {
      const attempt = this.acquireClaim();
      this.claiming = attempt;
      void attempt.then(
        () => this.claimAttemptEnded(attempt),
        () => this.claimAttemptEnded(attempt),
      );
    }
    return this.claiming;
  }

  private claimAttemptEnded(attempt: Promise<void>): void {
    if (this.claiming === attempt) this.claiming = undefined;
  }

  private async acquireClaim(): Promise<void> {
    const key = `${CLAIM_LOCK_PREFIX}${this.groupId}`;
    const deadline = Date.now() + this.claimWaitMs;
    for (let logged = false; ; logged = true) {
      const client = await this.pool.connect();
      let got: boolean;
      try {
        const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS got', [key]);
        got = rows[0]?.got === true;
      } catch (err) {
        // A connection that failed is closed, not given back to the pool for the next caller to find broken.
        client.release(err instanceof Error ? err : true);
        throw err;
      }
      if (got) {
        this.claim = client;
        client.on('error', (err: Error) => this.onClaimLost(client, err));
        return;
      }
      client.release();
      if (Date.now() >= deadline) {
        throw new Error(
          `another audit logger holds the ingest claim of consumer group ${this.groupId} (PostgreSQL advisory lock "${key}") ` +
            `after ${this.claimWaitMs} ms: the ingest must be its group's only consumer; stop the other one first`,
        );
      }
      if (!logged) this.logger.info({ groupId: this.groupId }, 'waiting for another audit logger to give up the ingest claim');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /**
   * The claim's connection was lost (PostgreSQL restarted, the connection killed). The ingest goes on
   * and claims again; if another audit logger claimed meanwhile, this one stops consuming for good
   * and readiness says why (the other one removed it from the group when it claimed).
   */
  private onClaimLost(client: pg.PoolClient, err: Error): void {
    if (this.claim !== client) return;
    this.claim = undefined;
    client.release(err);
    if (this.stopped || this.reclaiming) return;
    this.logger.warn({ err: err.message }, 'connection holding the audit ingest claim lost; claiming again');
    const reclaim = this.claimAgain();
    this.reclaiming = reclaim;
    void reclaim.finally(() => {
      if (this.reclaiming === reclaim) this.reclaiming = undefined;
    });
  }

  private async claimAgain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      try {
        await this.claimSingleton();
        // Cleared before anything else can run: a claim lost again right away must start a new
        // re-claim, not find this one still marked as running and leave the ingest unclaimed.
        // (No other re-claim can have started while this one was marked.)
        this.reclaiming = undefined;
        this.logger.info({ groupId: this.groupId }, 'audit ingest claim held again');
        return;
      } catch (claimErr) {
        if (/another audit logger holds/.test((claimErr as Error).message)) {
          this.claimFailure = claimErr as Error;
          this.logger.error({ err: claimErr }, 'audit ingest claim taken by another audit logger; this ingest stops');
          await this.stop();
          return;
        }
        // PostgreSQL not back yet: try again.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }
}

/** Partitions whose batches are ingested at once (audit.events has AUDIT_PARTITIONS = 6). */
const INGEST_PARTITIONS_CONCURRENTLY = 6;

/** The advisory lock's name (hashed to its key) is this prefix and the consumer group. */
const CLAIM_LOCK_PREFIX = 'backbone.audit-ingest:';
/** Longest a start waits for another audit logger's claim (one that is shutting down gives it up within its grace period). */
const CLAIM_WAIT_MS = 30_000;

/** Longest start-up waits for a predecessor's membership to expire (session + rebalance, with room). */
const EMPTY_GROUP_DEADLINE_MS = 3 * (CONSUMER_GROUP_TIMING.sessionTimeout + CONSUMER_GROUP_TIMING.rebalanceTimeout);

/**
 * The group's offsets can only be written while it has no members. After a SIGKILL the dead
 * process stays a member until its session expires (CONSUMER_GROUP_TIMING), so a restart waits for
 * that instead of exiting; a group still not empty after the deadline has a live member, i.e.
 * another audit logger, and the ingest must be its group's only member.
 */
async function waitForEmptyGroup(admin: Admin, groupId: string, logger: Logger): Promise<void> {
  const deadline = Date.now() + EMPTY_GROUP_DEADLINE_MS;
  let state: string;
  for (let logged = false; ; logged = true) {
    const { groups } = await admin.describeGroups([groupId]);
    state = groups[0]?.state ?? 'Dead';
    if (state === 'Empty' || state === 'Dead') return;
    if (Date.now() >= deadline) break;
    if (!logged) logger.info({ groupId, state }, 'waiting for the previous audit ingest member to leave the group');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `consumer group ${groupId} still has members (state ${state}) after ${EMPTY_GROUP_DEADLINE_MS} ms: ` +
      "another audit logger is consuming audit events; the ingest must be its group's only member",
  );
}
