import { auditSignatureProblem, type AuditEvent, type AuditEventType, type EventKeyring } from '@backbone/codec';

// Who may emit which audit event about whom. A valid signature proves which principal wrote an
// event; these rules decide whether that principal may state it. A subscriber's credentials can
// therefore not produce a gate decision, a submission, or a delivery to another agency.

/** The principal prefix of agency subscribers; the agency code follows it. */
export const SUBSCRIBER_SIGNER_PREFIX = 'subscriber-';

interface EmitterRule {
  /** The `service` field the emitter writes. */
  readonly service: string;
  readonly types: ReadonlySet<AuditEventType>;
}

const SERVICE_EMITTERS: ReadonlyMap<string, EmitterRule> = new Map([
  ['notice-publisher', { service: 'notice-publisher', types: new Set<AuditEventType>(['SUBMITTED', 'REJECTED', 'UPDATED', 'CANCELLED']) }],
  // REJECTED from every service: the refusals of its roles guard (RefusalAuditModule, @backbone/kafka).
  ['policy-gate', { service: 'policy-gate', types: new Set<AuditEventType>(['DECIDED', 'DEAD_LETTERED', 'REJECTED']) }],
  ['audit-logger', { service: 'audit-logger', types: new Set<AuditEventType>(['AUDIT_ACCESSED', 'REPLAYED', 'REJECTED']) }],
]);

const SUBSCRIBER_EMITTER: EmitterRule = {
  service: 'agency-subscriber',
  types: new Set<AuditEventType>(['DELIVERED', 'ACKNOWLEDGED', 'PURGED', 'REJECTED']),
};

/** Why `signer` may not emit `e`, or null when it may. Call only after the signature verified. */
export function emitterRefusal(signer: string, e: AuditEvent): string | null {
  const subscriberOf = signer.startsWith(SUBSCRIBER_SIGNER_PREFIX) ? signer.slice(SUBSCRIBER_SIGNER_PREFIX.length) : null;
  const rule = subscriberOf !== null ? SUBSCRIBER_EMITTER : SERVICE_EMITTERS.get(signer);
  if (rule === undefined) return `${signer} emits no audit events`;
  if (!rule.types.has(e.type)) return `${signer} may not emit ${e.type} events`;
  if (e.service !== rule.service) return `${signer} signed an event claiming service ${JSON.stringify(e.service.slice(0, 64))}`;
  if (subscriberOf !== null && e.agency !== subscriberOf) {
    return `${signer} may emit events only about its own agency ${subscriberOf}, not ${JSON.stringify(e.agency)}`;
  }
  return null;
}

/**
 * Why an event is not what it claims: a missing/unknown/invalid signature, or a signer that may
 * not state it (emitter rules). Null for a genuine event.
 */
export function forgeryOf(e: AuditEvent, keyring: EventKeyring): string | null {
  return auditSignatureProblem(e, keyring) ?? emitterRefusal(e.signature!.signer, e);
}
