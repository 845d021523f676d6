import { randomUUID } from 'node:crypto';
import type { DeadLetter, DeadLetterReason } from '@backbone/codec';

export interface FailedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

/** The dead-letter record keeps the original bytes whole, so the record can be repaired and replayed. */
export function deadLetterFor(service: string, record: FailedRecord, reason: DeadLetterReason, detail: string): DeadLetter {
  return {
    deadLetterId: randomUUID(),
    service,
    sourceTopic: record.topic,
    sourcePartition: record.partition,
    sourceOffset: Number(record.offset),
    key: record.key,
    value: record.value,
    reason,
    detail: detail.slice(0, 2000),
    failedAt: new Date(),
  };
}
