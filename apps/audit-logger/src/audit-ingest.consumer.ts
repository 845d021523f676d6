import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@backbone/bootstrap';
import { CONSUMER_GROUP_TIMING, RestartBackoff, superviseCrashes } from '@backbone/kafka';
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
  private stopped = false;
  private readonly backoff = new RestartBackoff();
  readonly stats: IngestStats = { inserted: 0, duplicates: 0, batches: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly writer: LedgerWriter,
    private readonly logger: Logger,
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
    this.stopped = true;
    await this.consumer?.disconnect().catch((err: unknown) => this.logger.warn({ err }, 'consumer disconnect failed'));
    this.consumer = undefined;
  }
}
