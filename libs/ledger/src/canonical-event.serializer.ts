import { canonicalJson, type AuditEvent, type Canonical, type RecipientDecision } from '@backbone/codec';

/**
 * Canonical form v1 of a ledger row: the exact bytes that are hashed into the chain.
 *
 * JSON text (UTF-8) with: object keys sorted by UTF-16 code unit order at every level, no
 * whitespace, strings escaped as JSON.stringify does, explicit nulls, integers only (int64
 * values such as seq and Kafka offsets as decimal strings), timestamps as integer epoch
 * milliseconds, bytes as standard padded base64. Arrays keep their order (decision order is
 * the gate's, which is meaningful). docs/compliance.md documents the same rules.
 */
export const CANONICAL_VERSION = 1;

/** Everything a ledger row carries that the hash covers. */
export interface LedgerEntry {
  /** Ledger sequence number, 1-based, gapless, decimal string (bigint). */
  seq: string;
  topic: string;
  partition: number;
  /** Kafka offset, decimal string (int64). */
  offset: string;
  recordedAt: Date;
  event: AuditEvent;
}

export { canonicalJson };

function decisionForm(d: RecipientDecision): Canonical {
  return {
    agency: d.agency,
    outcome: d.outcome,
    ruleId: d.ruleId,
    redactedGroups: [...d.redactedGroups],
    executionFlags: [...d.executionFlags],
  };
}

export function canonicalForm(entry: LedgerEntry): Canonical {
  const e = entry.event;
  const details: { [key: string]: Canonical } = {};
  for (const [k, v] of Object.entries(e.details)) details[k] = v;
  return {
    v: CANONICAL_VERSION,
    seq: entry.seq,
    kafka: { topic: entry.topic, partition: entry.partition, offset: entry.offset },
    recordedAt: entry.recordedAt.getTime(),
    eventId: e.eventId,
    type: e.type,
    occurredAt: e.occurredAt.getTime(),
    service: e.service,
    actor: e.actor,
    alertId: e.alertId,
    alertVersion: e.alertVersion,
    originator: e.originator,
    noticeType: e.noticeType,
    agency: e.agency,
    policyVersion: e.policyVersion,
    decisions: e.decisions.map(decisionForm),
    reason: e.reason,
    details,
    payload: e.payload === null ? null : e.payload.toString('base64'),
    // Present only on signed events, so rows hashed before signatures existed keep their hash.
    ...(e.signature === null
      ? {}
      : { signature: { signer: e.signature.signer, keyId: e.signature.keyId, value: e.signature.value.toString('base64') } }),
  };
}

export function canonicalBytes(entry: LedgerEntry): Buffer {
  return Buffer.from(canonicalJson(canonicalForm(entry)), 'utf8');
}
