import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { inSpan, SPAN_ATTR, SPANS } from '@backbone/telemetry';
import type { LedgerWriter } from './ledger.writer.js';

export interface IngestStats {
  inserted: number;
  duplicates: number;
  batches: number;
}

/**
 * Consumes audit.events with eachBatch. Each KafkaJS batch (one partition) becomes one PG
 * transaction; the Kafka offset is committed only after that transaction commits. A crash in
 * between redelivers the batch, and the UNIQUE (topic, partition, offset) position — checked
 * under the ledger lock — makes the redelivery add nothing. Hence no seek from PG is needed.
 */
export class AuditIngestConsumer {
  private consumer: Consumer | undefined;
  readonly stats: IngestStats = { inserted: 0, duplicates: 0, batches: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly writer: LedgerWriter,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({ groupId: this.groupId, maxBytesPerPartition: 4 * 1024 * 1024, readUncommitted: false });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const rows = batch.messages.map((m) => ({ offset: m.offset, value: m.value }));
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

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'consumer disconnect failed'));
    this.consumer = undefined;
  }
}
