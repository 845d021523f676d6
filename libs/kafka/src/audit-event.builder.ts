import { randomUUID } from 'node:crypto';
import { auditEventCodec, signAuditEvent, type AuditEvent, type AuditEventType, type EventSigningKey } from '@backbone/codec';

/** Fills the optional fields of an audit event so emitters only state what they know. */
export function auditEvent(type: AuditEventType, service: string, fields: Partial<Omit<AuditEvent, 'type' | 'service'>> = {}): AuditEvent {
  return {
    eventId: randomUUID(),
    occurredAt: new Date(),
    actor: null,
    alertId: null,
    alertVersion: null,
    originator: null,
    noticeType: null,
    agency: null,
    policyVersion: null,
    decisions: [],
    reason: null,
    details: {},
    payload: null,
    signature: null,
    ...fields,
    type,
    service,
  };
}

/**
 * The bytes of an audit event as its emitter writes them: signed with the emitter's event key.
 * Without a key the event goes unsigned, and an audit logger holding public keys parks it as forged.
 */
export function encodeAuditEvent(event: AuditEvent, signer: EventSigningKey | null | undefined): Buffer {
  return auditEventCodec.encode(signer ? signAuditEvent(event, signer) : event);
}
