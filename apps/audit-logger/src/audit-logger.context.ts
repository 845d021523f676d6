import type { KeyObject } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type pg from 'pg';
import { auditEventCodec } from '@backbone/codec';
import { auditEvent, type TopicNames } from '@backbone/kafka';

/** A compliance user as its verified token shows it (compliance-users.store.ts). */
export interface ComplianceUser {
  tokenId: string;
  name: string;
  role: string;
}

/** Everything the compliance API needs, provided to Nest as one value. */
export interface AuditLoggerContext {
  pool: pg.Pool;
  producer: Producer;
  /** Transactional: each replayed delivery commits with its REPLAYED audit event. */
  replayProducer: Producer;
  topics: TopicNames;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  policiesDir: string;
}

export const AUDIT_CONTEXT = Symbol('AUDIT_CONTEXT');

/**
 * Every compliance query is itself an audit event. It is sent (acks=all) before the answer, so a
 * query that could not be audited is not answered.
 */
export async function recordAccess(ctx: AuditLoggerContext, user: ComplianceUser, action: string, details: Record<string, string>, fields: { alertId?: string; agency?: string } = {}): Promise<void> {
  const event = auditEvent('AUDIT_ACCESSED', 'audit-logger', {
    actor: user.name,
    alertId: fields.alertId ?? null,
    agency: fields.agency ?? null,
    details: { action, tokenId: user.tokenId, ...details },
  });
  await ctx.producer.send({ topic: ctx.topics.audit, acks: -1, messages: [{ key: event.eventId, value: auditEventCodec.encode(event) }] });
}
