import { canonicalDecisionsText, canonicalJson, type AuditEvent, type Canonical, type RecipientDecision } from '@backbone/codec';

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

/** The canonical form as a string; its UTF-8 encoding is canonicalBytes. */
export function canonicalText(entry: LedgerEntry): string {
  return wellTypedCanonical(entry) ?? canonicalJson(canonicalForm(entry));
}

/**
 * canonicalText when the decisions' canonical text is already known (`canonicalDecisions` of the
 * stored jsonb): the same string, without the entry's `decisions` being read. Null when the rest of
 * the entry is not of the expected shape: then parse the decisions and use canonicalText.
 */
export function canonicalTextWithDecisions(entry: LedgerEntry, decisions: string): string | null {
  return wellTypedCanonical(entry, decisions);
}

// PostgreSQL's text of a jsonb string, restricted to what JSON.stringify writes for the same
// string: any character but a quote, a backslash or a control character, the short escapes, and
// \u00xx (lower-case) only for the control characters without a short form. PostgreSQL writes
// jsonb strings exactly so (escape_json), so such a token is its own JSON.stringify(JSON.parse()).
const JSONB_STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\["\\bfnrt]|\\u00(?:0[0-7bef]|1[0-9a-f]))*"`;
const JSONB_STRINGS = String.raw`\[((?:${JSONB_STRING}(?:, ${JSONB_STRING})*)?)\]`;
const STRING_TOKEN = new RegExp(JSONB_STRING, 'y');
// jsonb writes an object's keys shortest first, then bytewise, with ": " and ", " between.
const DECISION_TOKEN = new RegExp(
  String.raw`\{"agency": (${JSONB_STRING}), "ruleId": (${JSONB_STRING}), "outcome": (${JSONB_STRING}), ` +
    String.raw`"executionFlags": ${JSONB_STRINGS}, "redactedGroups": ${JSONB_STRINGS}\}`,
  'y',
);

/** `"a", "b"` (jsonb) → `"a","b"` (canonical), or null. */
function canonicalStrings(list: string): string | null {
  if (list === '') return '';
  let out = '';
  for (let pos = 0; ;) {
    STRING_TOKEN.lastIndex = pos;
    const m = STRING_TOKEN.exec(list);
    if (m === null) return null;
    out += (out === '' ? '' : ',') + m[0];
    pos = STRING_TOKEN.lastIndex;
    if (pos === list.length) return out;
    if (!list.startsWith(', ', pos)) return null;
    pos += 2;
  }
}

/**
 * The canonical text of a row's decisions (what goes between the brackets of `"decisions":[…]`)
 * straight from PostgreSQL's text of the jsonb column, without parsing it into objects: verify
 * reads every row, and the decisions are most of a DECIDED row. Only for the expected shape (an
 * array of objects with exactly agency, outcome, ruleId and two arrays of strings, as the gate
 * writes them); anything else gives null, and the caller parses the column and hashes the
 * generic way, so the bytes hashed are always those of canonicalText (int-tested on real jsonb).
 */
export function canonicalDecisions(jsonb: string): string | null {
  if (jsonb === '[]') return '';
  if (!jsonb.startsWith('[')) return null;
  let out = '';
  for (let pos = 1; ;) {
    DECISION_TOKEN.lastIndex = pos;
    const m = DECISION_TOKEN.exec(jsonb);
    if (m === null) return null;
    const flags = canonicalStrings(m[4]!);
    const groups = canonicalStrings(m[5]!);
    if (flags === null || groups === null) return null;
    out +=
      (out === '' ? '' : ',') +
      `{"agency":${m[1]},"executionFlags":[${flags}],"outcome":${m[3]},"redactedGroups":[${groups}],"ruleId":${m[2]}}`;
    pos = DECISION_TOKEN.lastIndex;
    if (pos === jsonb.length - 1 && jsonb[pos] === ']') return out;
    if (!jsonb.startsWith(', ', pos)) return null;
    pos += 2;
  }
}

export function canonicalBytes(entry: LedgerEntry): Buffer {
  return Buffer.from(canonicalText(entry), 'utf8');
}

const q = JSON.stringify;
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
const safeInt = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * The same text as canonicalJson(canonicalForm(entry)), written out with its keys already in
 * sorted order instead of sorting every object of every row (verify and the ingest hash each row;
 * the generic walk was most of that). Only for entries of the expected shape: anything else (a
 * tampered jsonb column, say) returns null and takes the generic path, so the bytes are always
 * those of the generic form (property-tested in hash-chain.spec.ts).
 */
function wellTypedCanonical(entry: LedgerEntry, knownDecisions?: string): string | null {
  const e = entry.event;
  const recordedAt = entry.recordedAt.getTime();
  const occurredAt = e.occurredAt instanceof Date ? e.occurredAt.getTime() : NaN;
  if (
    typeof entry.seq !== 'string' ||
    typeof entry.topic !== 'string' ||
    typeof entry.offset !== 'string' ||
    !safeInt(entry.partition) ||
    !safeInt(recordedAt) ||
    !safeInt(occurredAt) ||
    typeof e.eventId !== 'string' ||
    typeof e.type !== 'string' ||
    typeof e.service !== 'string' ||
    !strOrNull(e.actor) ||
    !strOrNull(e.alertId) ||
    !(e.alertVersion === null || safeInt(e.alertVersion)) ||
    !strOrNull(e.originator) ||
    !strOrNull(e.noticeType) ||
    !strOrNull(e.agency) ||
    !strOrNull(e.policyVersion) ||
    !strOrNull(e.reason) ||
    (knownDecisions === undefined && !Array.isArray(e.decisions)) ||
    !(e.payload === null || Buffer.isBuffer(e.payload))
  )
    return null;
  const decisions = knownDecisions ?? canonicalDecisionsText(e.decisions as unknown[]);
  if (decisions === null) return null;
  let signature = '';
  if (e.signature !== null) {
    const sig = e.signature;
    if (typeof sig.keyId !== 'string' || typeof sig.signer !== 'string' || !Buffer.isBuffer(sig.value)) return null;
    signature = `"signature":{"keyId":${q(sig.keyId)},"signer":${q(sig.signer)},"value":${q(sig.value.toString('base64'))}},`;
  }
  const details: { [key: string]: Canonical } = {};
  for (const [k, v] of Object.entries(e.details)) details[k] = v;
  return (
    `{"actor":${q(e.actor)},"agency":${q(e.agency)},"alertId":${q(e.alertId)},"alertVersion":${q(e.alertVersion)},` +
    `"decisions":[${decisions}],"details":${canonicalJson(details)},"eventId":${q(e.eventId)},` +
    `"kafka":{"offset":${q(entry.offset)},"partition":${entry.partition},"topic":${q(entry.topic)}},` +
    `"noticeType":${q(e.noticeType)},"occurredAt":${occurredAt},"originator":${q(e.originator)},` +
    `"payload":${e.payload === null ? 'null' : q(e.payload.toString('base64'))},"policyVersion":${q(e.policyVersion)},` +
    `"reason":${q(e.reason)},"recordedAt":${recordedAt},"seq":${q(entry.seq)},"service":${q(e.service)},${signature}` +
    `"type":${q(e.type)},"v":${CANONICAL_VERSION}}`
  );
}
