import type { Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { Logger } from '@backbone/bootstrap';

/**
 * Sends queued audit events (audit_outbox) to audit.events and deletes them once the broker has
 * them (acks=all, idempotent producer). Each batch is selected, sent and deleted in one
 * transaction that locks its rows (FOR UPDATE SKIP LOCKED), so replicas of one agency sharing the
 * outbox never send the same rows concurrently. No audit event is lost; a crash between send and
 * delete re-sends the batch (at-least-once): the audit logger de-duplicates by Kafka position, not
 * by eventId, so such a re-send appears in the ledger twice with the same eventId.
 */
export class AuditRelay {
  private producer: Producer | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastPassAt = -Infinity;
  /** The queued pass came from the timer only: check for rows before opening a transaction. */
  private checkFirst = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly db: DataSource,
    private readonly topic: string,
    private readonly logger: Logger,
    // Every store kicks the relay, so the timer is only the fallback (failed sends, acks and other
    // replicas' rows): once a second it was most of an idle subscriber's PostgreSQL traffic.
    private readonly retryIntervalMs = 5000,
    /** Kicks closer together than this share one pass: one outbox transaction per burst, not per record. */
    private readonly minGapMs = 20,
  ) {}

  async start(): Promise<void> {
    this.producer = this.newProducer();
    await this.producer.connect();
    // The timer retries what a failed flush left behind and picks up purge/ack events of other replicas.
    this.timer = setInterval(() => this.kick(true), this.retryIntervalMs);
    this.kick();
  }

  /**
   * Asks for a flush; concurrent kicks coalesce into at most one more pass. The timer's pass first
   * asks whether anything is queued at all (one query, no transaction): idle, that is all it does.
   */
  kick(fromTimer = false): void {
    if (this.closed || !this.producer) return;
    if (this.again) {
      if (!fromTimer) this.checkFirst = false;
      return;
    }
    this.again = true;
    this.checkFirst = fromTimer;
    this.running = this.running.then(async () => {
      const wait = this.lastPassAt + this.minGapMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.again = false;
      this.lastPassAt = performance.now();
      try {
        if (this.checkFirst && !(await this.anyQueued())) return;
        await this.flush();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'audit relay: send failed, will retry');
        if (err instanceof SendFailed) await this.renewProducer();
      }
    });
  }

  /** Resolves when everything queued before the call has been sent (or the attempt failed). */
  async drain(): Promise<void> {
    this.kick();
    await this.running;
  }

  private newProducer(): Producer {
    return this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  }

  /**
   * After a failed send the next attempt starts with a new producer id. KafkaJS rolls back the
   * sequence numbers of every partition of a failed produce request, including partitions the
   * broker had written; the retry of the same rows would be recognised as a duplicate, but the
   * outbox may hold more rows by then, and a batch of another size at a reused sequence number is
   * answered OUT_OF_ORDER_SEQUENCE_NUMBER on every later attempt: the agency's audit events would
   * stay queued for good. A new producer id starts every partition's sequence afresh; the cost is
   * at most the re-send the outbox already allows (the ledger keeps it by Kafka position).
   */
  private async renewProducer(): Promise<void> {
    const old = this.producer;
    if (!old || this.closed) return;
    const fresh = this.newProducer();
    this.producer = fresh;
    await old.disconnect().catch(() => undefined);
    // A connect that fails now is retried by the next failed send.
    await fresh
      .connect()
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'audit relay: producer reconnect failed'));
  }

  private async anyQueued(): Promise<boolean> {
    const rows = (await this.db.query(`SELECT EXISTS (SELECT 1 FROM audit_outbox) AS any`)) as { any: boolean }[];
    return rows[0]?.any === true;
  }

  async pending(): Promise<number> {
    const rows = (await this.db.query(`SELECT count(*) AS n FROM audit_outbox`)) as { n: string }[];
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.drain().catch(() => undefined);
    this.closed = true;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private async flush(): Promise<void> {
    const producer = this.producer;
    if (!producer) return;
    for (;;) {
      // Rows another replica holds are skipped, not waited for: it is sending them.
      const sent = await this.db.transaction(async (tx) => {
        const rows = (await tx.query(`SELECT id, event_key, event FROM audit_outbox ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`)) as {
          id: string;
          event_key: string | null;
          event: Buffer;
        }[];
        if (rows.length === 0) return 0;
        await producer
          .send({ topic: this.topic, acks: -1, messages: rows.map((r) => ({ key: r.event_key, value: r.event })) })
          .catch((err: unknown) => {
            throw new SendFailed(err);
          });
        await tx.query(`DELETE FROM audit_outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
        return rows.length;
      });
      if (sent < 500) return;
    }
  }
}

/** A send to the broker failed (not the outbox query): the relay's producer is renewed. */
class SendFailed extends Error {
  constructor(cause: unknown) {
    super((cause as Error).message, { cause });
    this.name = 'SendFailed';
  }
}
