import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { auditEventCodec, type AuditEvent, type EventKeyring } from '@backbone/codec';
import { CONSUMER_GROUP_TIMING, RestartBackoff, superviseCrashes } from '@backbone/kafka';
import { inSpan, SPAN_ATTR, SPANS } from '@backbone/telemetry';
import { forgeryOf, parkForged, type ForgedRecord } from './event.screen.js';
import { decodeAuditRecord, type IncomingRecord, type LedgerWriter } from './ledger.writer.js';

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
}

/**
 * Consumes audit.events with eachBatch. Each KafkaJS batch (one partition) becomes one PG
 * transaction; the Kafka offset is committed only after that transaction commits. A crash in
 * between redelivers the batch, and the UNIQUE (topic, partition, offset) position — checked
 * under the ledger lock — makes the redelivery add nothing. Hence no seek from PG is needed.
 */
export class AuditIngestConsumer {
  private consumer: Consumer | undefined;
  private stopped = false;
  private readonly backoff = new RestartBackoff();
  readonly stats: IngestStats = { inserted: 0, duplicates: 0, batches: 0, forged: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly writer: LedgerWriter,
    private readonly logger: Logger,
    /** Without it every decodable event is entered (tests of the ledger alone); services always pass one. */
    private readonly screen?: IngestScreen,
  ) {}

  async start(): Promise<void> {
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
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const rows = await this.screenBatch(batch.topic, batch.partition, batch.messages);
        const result = await inSpan(SPANS.auditIngested, { [SPAN_ATTR.records]: rows.length }, () => this.writer.append(batch.topic, batch.partition, rows));
        this.stats.inserted += result.inserted;
        this.stats.duplicates += result.duplicates;
        this.stats.batches++;
        if (result.duplicates > 0) this.logger.info({ partition: batch.partition, duplicates: result.duplicates }, 'skipped redelivered audit events');
        // Resolve (KafkaJS's in-memory position, else it fetches the batch again) and commit,
        // both only after the PG commit.
        resolveOffset(batch.lastOffset());
        const next = (BigInt(batch.lastOffset()) + 1n).toString();
        // After the PG commit: the committed offset never runs ahead of the ledger.
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        await heartbeat();
      },
    });
  }

  /** Parks forged events (before the commit) and returns the rest, decoded once. */
  private async screenBatch(
    topic: string,
    partition: number,
    messages: readonly { offset: string; key: Buffer | null; value: Buffer | null }[],
  ): Promise<IncomingRecord[]> {
    const screen = this.screen;
    const accepted: IncomingRecord[] = [];
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
      if (why === null) accepted.push({ offset: m.offset, value: m.value, event });
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
    this.stopped = true;
    await this.consumer?.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'consumer disconnect failed'));
    this.consumer = undefined;
  }
}
