import type { EntityManager } from 'typeorm';
import type { AuditEvent, AuditEventType, EventSigningKey } from '@backbone/codec';
import { auditEvent, encodeAuditEvent } from '@backbone/kafka';

export const SERVICE = 'agency-subscriber';

/**
 * Queues an audit event in the same transaction as the change it records; AuditRelay sends it.
 * Encoding here (not in the relay) makes a bad event fail the business transaction, loudly.
 */
export async function queueAuditEvent(
  tx: EntityManager,
  signer: EventSigningKey | null,
  type: AuditEventType,
  fields: Partial<Omit<AuditEvent, 'type' | 'service'>>,
): Promise<void> {
  const event = auditEvent(type, SERVICE, fields);
  await tx.query(`INSERT INTO audit_outbox (event_key, event) VALUES ($1, $2)`, [event.alertId, encodeAuditEvent(event, signer)]);
}

/** Queues several audit events with one INSERT, in order (their outbox ids follow the array). */
export async function queueAuditEvents(
  tx: EntityManager,
  signer: EventSigningKey | null,
  type: AuditEventType,
  fields: readonly Partial<Omit<AuditEvent, 'type' | 'service'>>[],
): Promise<void> {
  if (fields.length === 0) return;
  const events = fields.map((f) => auditEvent(type, SERVICE, f));
  await tx.query(
    `INSERT INTO audit_outbox (event_key, event) SELECT k, v FROM unnest($1::text[], $2::bytea[]) WITH ORDINALITY AS e(k, v, n) ORDER BY n`,
    [events.map((e) => e.alertId), events.map((e) => encodeAuditEvent(e, signer))],
  );
}
