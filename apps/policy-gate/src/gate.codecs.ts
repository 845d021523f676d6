import { alertCodec, auditEventCodec, deadLetterCodec, deadLetterReasonFor, deliveryCodec, type EventSigningKey } from '@backbone/codec';
import { encodeAuditEvent } from '@backbone/kafka';
import type { DecodedRecord, GateCodecs, InboundRecord } from './batch.assembler.js';

/**
 * Binds the gate's codecs now. They are bound lazily on first use (reading schemas/ and building
 * every schema version's Avro type and resolver: about a quarter of a second of CPU on a busy
 * machine); the consumer calls this at start-up so its first batch does not pay for it.
 */
export function loadGateCodecs(): void {
  for (const codec of [alertCodec, deliveryCodec, auditEventCodec, deadLetterCodec]) void codec.fingerprint;
}

/** The gate's encoders; audit events are signed with the gate's event key when it has one. */
export function gateCodecsFor(signer: EventSigningKey | null): GateCodecs {
  return {
    encodeAlert: (a) => alertCodec.encode(a),
    encodeDelivery: (d) => deliveryCodec.encode(d),
    encodeAudit: (e) => encodeAuditEvent(e, signer),
    encodeDeadLetter: (d) => deadLetterCodec.encode(d),
  };
}

/** Unsigned encoders (tests of the gate alone). */
export const gateCodecs: GateCodecs = gateCodecsFor(null);

/** Decodes one inbound record; never throws, a failure becomes the dead-letter reason. */
export function decodeInbound(record: InboundRecord): DecodedRecord {
  if (record.value === null || record.value.length === 0) {
    return { record, failure: { reason: 'UNDECODABLE', detail: 'empty record value (tombstone)' } };
  }
  try {
    return { record, alert: alertCodec.decode(record.value) };
  } catch (err) {
    return { record, failure: { reason: deadLetterReasonFor(err), detail: err instanceof Error ? err.message : String(err) } };
  }
}
