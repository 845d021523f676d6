import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventType } from '@backbone/codec';

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
    ...fields,
    type,
    service,
  };
}
