import type { Producer } from 'kafkajs';
import { deadLetterCodec } from '@backbone/codec';
import { deadLetterFor } from '@backbone/kafka';

/** The named reason forged audit events are parked with (detail: `forged: <why>`). */
export const FORGED_REASON = 'forged';

export interface ForgedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  why: string;
}

/**
 * Parks forged events on the dead-letter topic with their original bytes and position, acks=all,
 * before the offset is committed: never entered as genuine, never lost.
 */
export async function parkForged(producer: Producer, deadLetterTopic: string, records: readonly ForgedRecord[]): Promise<void> {
  if (records.length === 0) return;
  await producer.send({
    topic: deadLetterTopic,
    acks: -1,
    messages: records.map((r) => {
      const letter = deadLetterFor('audit-logger', r, 'FORGED', `${FORGED_REASON}: ${r.why}`);
      return { key: r.key, value: deadLetterCodec.encode(letter), headers: { reason: FORGED_REASON } };
    }),
  });
}
