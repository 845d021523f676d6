import type { Kafka, Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import type { Logger } from '@backbone/bootstrap';

/**
 * Sends queued audit events (audit_outbox) to audit.events and deletes them once the broker has
 * them (acks=all, idempotent producer). A crash between send and delete re-sends the same events
 * with the same eventId, which the audit logger de-duplicates; nothing is ever lost.
 */
export class AuditRelay {
  private producer: Producer | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly db: DataSource,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly retryIntervalMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    // The timer retries what a failed flush left behind and picks up purge/ack events of other replicas.
    this.timer = setInterval(() => this.kick(), this.retryIntervalMs);
    this.kick();
  }

  /** Asks for a flush; concurrent kicks coalesce into at most one more pass. */
  kick(): void {
    if (this.closed || !this.producer) return;
    if (this.again) return;
    this.again = true;
    this.running = this.running.then(async () => {
      this.again = false;
      try {
        await this.flush();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'audit relay: send failed, will retry');
      }
    });
  }

  /** Resolves when everything queued before the call has been sent (or the attempt failed). */
  async drain(): Promise<void> {
    this.kick();
    await this.running;
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
      const rows = (await this.db.query(`SELECT id, event_key, event FROM audit_outbox ORDER BY id LIMIT 500`)) as { id: string; event_key: string | null; event: Buffer }[];
      if (rows.length === 0) return;
      await producer.send({ topic: this.topic, acks: -1, messages: rows.map((r) => ({ key: r.event_key, value: r.event })) });
      await this.db.query(`DELETE FROM audit_outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
      if (rows.length < 500) return;
    }
  }
}
