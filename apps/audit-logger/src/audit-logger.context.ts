import type { KeyObject } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import type { EventKeyring, EventSigningKey } from '@backbone/codec';
import { auditEvent, encodeAuditEvent, type TopicNames } from '@backbone/kafka';
import type { Anchor, ComplianceUser } from '@backbone/ledger';

/** Everything the compliance API needs, provided to Nest as one value. */
export interface AuditLoggerContext {
  pool: pg.Pool;
  producer: Producer;
  /** Transactional: each replayed delivery commits with its REPLAYED audit event. */
  replayProducer: Producer;
  topics: TopicNames;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  policiesDir: string;
  /** Signs the events this service emits (null: unsigned, parked as forged by a checking logger). */
  eventSigningKey: EventSigningKey | null;
  /** Public event keys: verify re-checks every row's emitter signature with them. */
  eventKeyring: EventKeyring | null;
  /**
   * The checkpoints anchored outside the database, for verify; null when anchoring is off.
   * `onExtent` is called once which anchors will be read is fixed (always, also on failure).
   */
  readAnchors: (onExtent?: () => void) => Promise<{ anchors: Anchor[]; maxUnanchoredTail?: number | undefined } | null>;
}

export const AUDIT_CONTEXT = Symbol('AUDIT_CONTEXT');

/**
 * Every compliance query is itself an audit event. It is sent (acks=all) before the answer, so a
 * query that could not be audited is not answered.
 */
export async function recordAccess(
  ctx: AuditLoggerContext,
  user: ComplianceUser,
  action: string,
  details: Record<string, string>,
  fields: { alertId?: string; agency?: string } = {},
): Promise<void> {
  const event = auditEvent('AUDIT_ACCESSED', 'audit-logger', {
    actor: user.name,
    alertId: fields.alertId ?? null,
    agency: fields.agency ?? null,
    details: { action, tokenId: user.tokenId, ...details },
  });
  await ctx.producer.send({
    topic: ctx.topics.audit,
    acks: -1,
    messages: [{ key: event.eventId, value: encodeAuditEvent(event, ctx.eventSigningKey) }],
  });
}
