import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, type Canonical } from './canonical-json.js';
import type { AuditEvent } from './delivery.types.js';

// Signed audit events. Kafka does not stamp the producing principal on a record, so each
// emitter signs what it writes with its own Ed25519 key; the audit logger holds only public
// keys and checks both the signature and that the signer may emit that event (emitter rules).
// The signed bytes are a canonical JSON form of every field but `signature`, so they can be
// rebuilt from the event alone: from the Kafka record on ingest, from a ledger row in verify.

/** Domain separation: these bytes can never be mistaken for another signed message. */
const SIGNING_CONTEXT = 'backbone.audit-event.v1';

/** A principal's private event key. */
export interface EventSigningKey {
  /** The Kafka principal: notice-publisher, policy-gate, audit-logger, subscriber-<AGENCY>. */
  readonly signer: string;
  readonly keyId: string;
  readonly privateKey: KeyObject;
}

/** Public event keys: signer → keyId → key. Old keys stay after rotation so history verifies. */
export type EventKeyring = ReadonlyMap<string, ReadonlyMap<string, KeyObject>>;

/** The canonical form an emitter signs (every field but `signature`); its canonicalJson is what auditSigningBytes encodes. */
export function auditSigningForm(e: AuditEvent): Canonical {
  const details: { [key: string]: Canonical } = {};
  for (const [k, v] of Object.entries(e.details)) details[k] = v;
  return {
    context: SIGNING_CONTEXT,
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
    decisions: e.decisions.map((d) => ({
      agency: d.agency,
      outcome: d.outcome,
      ruleId: d.ruleId,
      redactedGroups: [...d.redactedGroups],
      executionFlags: [...d.executionFlags],
    })),
    reason: e.reason,
    details,
    payload: e.payload === null ? null : e.payload.toString('base64'),
  };
}

/** The bytes an emitter signs: the event without its signature, canonically. */
export function auditSigningBytes(e: AuditEvent): Buffer {
  return Buffer.from(wellTypedSigningText(e) ?? canonicalJson(auditSigningForm(e)), 'utf8');
}

const q = JSON.stringify;
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const strings = (a: unknown): string | null => {
  if (!Array.isArray(a)) return null;
  let out = '';
  for (const x of a) {
    if (typeof x !== 'string') return null;
    out += (out === '' ? '' : ',') + q(x);
  }
  return `[${out}]`;
};

/**
 * The canonical JSON of a DECIDED event's decision list without its brackets (keys in order, as
 * canonicalJson writes them), or null when an entry is not of the gate's shape. Shared by the
 * signed bytes here and the ledger's row hash, which must agree on it byte for byte.
 */
export function canonicalDecisionsText(list: readonly unknown[]): string | null {
  let decisions = '';
  for (const d of list) {
    if (typeof d !== 'object' || d === null) return null;
    const r = d as Record<string, unknown>;
    const executionFlags = strings(r['executionFlags']);
    const redactedGroups = strings(r['redactedGroups']);
    if (typeof r['agency'] !== 'string' || typeof r['outcome'] !== 'string' || typeof r['ruleId'] !== 'string') return null;
    if (executionFlags === null || redactedGroups === null) return null;
    decisions +=
      (decisions === '' ? '' : ',') +
      `{"agency":${q(r['agency'])},"executionFlags":${executionFlags},"outcome":${q(r['outcome'])},"redactedGroups":${redactedGroups},"ruleId":${q(r['ruleId'])}}`;
  }
  return decisions;
}

/**
 * canonicalJson(auditSigningForm(e)) written with its keys already in order instead of sorting
 * every object (the audit logger checks every event's signature on ingest and in verify; the
 * generic walk cost more than a third of the check). Only for events of the expected shape;
 * anything else returns null and takes the generic path, so the bytes are always the generic
 * form's (property-tested in audit-signature.spec.ts).
 */
function wellTypedSigningText(e: AuditEvent): string | null {
  const occurredAt = e.occurredAt instanceof Date ? e.occurredAt.getTime() : NaN;
  if (
    !Number.isSafeInteger(occurredAt) ||
    typeof e.eventId !== 'string' ||
    typeof e.type !== 'string' ||
    typeof e.service !== 'string' ||
    !strOrNull(e.actor) ||
    !strOrNull(e.alertId) ||
    !(e.alertVersion === null || Number.isSafeInteger(e.alertVersion)) ||
    !strOrNull(e.originator) ||
    !strOrNull(e.noticeType) ||
    !strOrNull(e.agency) ||
    !strOrNull(e.policyVersion) ||
    !strOrNull(e.reason) ||
    !Array.isArray(e.decisions) ||
    !(e.payload === null || Buffer.isBuffer(e.payload))
  )
    return null;
  const decisions = canonicalDecisionsText(e.decisions as unknown[]);
  if (decisions === null) return null;
  const details: { [key: string]: Canonical } = {};
  for (const [k, v] of Object.entries(e.details)) details[k] = v;
  return (
    `{"actor":${q(e.actor)},"agency":${q(e.agency)},"alertId":${q(e.alertId)},"alertVersion":${q(e.alertVersion)},` +
    `"context":${q(SIGNING_CONTEXT)},"decisions":[${decisions}],"details":${canonicalJson(details)},"eventId":${q(e.eventId)},` +
    `"noticeType":${q(e.noticeType)},"occurredAt":${occurredAt},"originator":${q(e.originator)},` +
    `"payload":${e.payload === null ? 'null' : q(e.payload.toString('base64'))},"policyVersion":${q(e.policyVersion)},` +
    `"reason":${q(e.reason)},"service":${q(e.service)},"type":${q(e.type)}}`
  );
}

/** The event with its emitter's signature (a copy; the input is not changed). */
export function signAuditEvent(e: AuditEvent, key: EventSigningKey): AuditEvent {
  const unsigned = { ...e, signature: null };
  return {
    ...unsigned,
    signature: { signer: key.signer, keyId: key.keyId, value: sign(null, auditSigningBytes(unsigned), key.privateKey) },
  };
}

/** A stable id of a public key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export function eventKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Why the signature does not prove who emitted `e`, or null when it does. */
export function auditSignatureProblem(e: AuditEvent, keyring: EventKeyring): string | null {
  const s = e.signature;
  if (s === null) return 'unsigned';
  const keys = keyring.get(s.signer);
  if (keys === undefined) return `unknown signer ${JSON.stringify(s.signer.slice(0, 100))}`;
  const key = keys.get(s.keyId);
  if (key === undefined) return `unknown key ${JSON.stringify(s.keyId.slice(0, 64))} for signer ${s.signer}`;
  let ok: boolean;
  try {
    ok = verify(null, auditSigningBytes(e), key, s.value);
  } catch {
    ok = false;
  }
  return ok ? null : `signature of ${s.signer} does not match the event`;
}

/** A keyring from (signer, PEM public key) pairs; key ids are computed, never trusted from input. */
export function eventKeyringOf(entries: readonly { signer: string; publicKey: string }[]): EventKeyring {
  const ring = new Map<string, Map<string, KeyObject>>();
  for (const entry of entries) {
    const key = createPublicKey(entry.publicKey);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`event key of ${entry.signer} is ${key.asymmetricKeyType}, not ed25519`);
    const keys = ring.get(entry.signer) ?? new Map<string, KeyObject>();
    keys.set(eventKeyId(key), key);
    ring.set(entry.signer, keys);
  }
  return ring;
}
