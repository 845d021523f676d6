import { alertCodec, auditEventCodec, deadLetterCodec, deadLetterReasonFor, deliveryCodec } from '@backbone/codec';
import type { DecodedRecord, GateCodecs, InboundRecord } from './batch.assembler.js';

export const gateCodecs: GateCodecs = {
  encodeAlert: (a) => alertCodec.encode(a),
  encodeDelivery: (d) => deliveryCodec.encode(d),
  encodeAudit: (e) => auditEventCodec.encode(e),
  encodeDeadLetter: (d) => deadLetterCodec.encode(d),
};

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
