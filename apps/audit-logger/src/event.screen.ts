import type { Producer } from 'kafkajs';
import { auditSignatureProblem, deadLetterCodec, type AuditEvent, type EventKeyring } from '@backbone/codec';
import { deadLetterFor } from '@backbone/kafka';
import { emitterRefusal } from './emitter.rules.js';

/** The named reason forged audit events are parked with (detail: `forged: <why>`). */
export const FORGED_REASON = 'forged';

/**
 * Why an event is not what it claims: a missing/unknown/invalid signature, or a signer that may
 * not state it (emitter rules). Null for a genuine event.
 */
export function forgeryOf(e: AuditEvent, keyring: EventKeyring): string | null {
  return auditSignatureProblem(e, keyring) ?? emitterRefusal(e.signature!.signer, e);
}

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
