import type { AuditEvent, AuditEventType, RecipientDecision } from '@backbone/codec';
import type { LedgerEntry } from './canonical-event.serializer.js';

/** Column order of audit.ledger as the writer inserts it. */
/** Ledger `reason` of the placeholder row that stands for a parked record (type UNKNOWN). */
export const PARKED_REASON = 'PARKED';
/** Ledger `reason` of a record that did not decode, kept whole as type UNKNOWN. */
export const UNDECODABLE_REASON = 'UNDECODABLE';

export const LEDGER_COLUMNS = [
  'seq',
  'topic',
  'kafka_partition',
  'kafka_offset',
  'recorded_at',
  'event_id',
  'type',
  'occurred_at',
  'service',
  'actor',
  'alert_id',
  'alert_version',
  'originator',
  'notice_type',
  'agency',
  'policy_version',
  'decisions',
  'reason',
  'details',
  'payload',
  'signer',
  'signer_key_id',
  'signature',
  'prev_hash',
  'hash',
] as const;

/** A row as pg returns it (bigint as string, jsonb parsed, bytea as Buffer). */
export interface LedgerRow {
  seq: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  recorded_at: Date;
  event_id: string;
  type: string;
  occurred_at: Date;
  service: string;
  actor: string | null;
  alert_id: string | null;
  alert_version: number | null;
  originator: string | null;
  notice_type: string | null;
  agency: string | null;
  policy_version: string | null;
  decisions: RecipientDecision[];
  reason: string | null;
  details: Record<string, string>;
  payload: Buffer | null;
  signer: string | null;
  signer_key_id: string | null;
  signature: Buffer | null;
  prev_hash: Buffer;
  hash: Buffer;
}

export const LEDGER_SELECT = LEDGER_COLUMNS.join(', ');

/**
 * Every column of a row for `COPY (SELECT …) TO STDOUT` (streamCopyRows), in LEDGER_COLUMNS order,
 * in the forms cheapest to read back: timestamps as epoch milliseconds (floored, as a JavaScript
 * Date of the timestamp holds them), bytea as plain hex. `copyFieldsToRow` turns one into a LedgerRow.
 */
export const LEDGER_COPY_SELECT = LEDGER_COLUMNS.map((c) =>
  c === 'recorded_at' || c === 'occurred_at'
    ? `floor(extract(epoch FROM ${c}) * 1000)`
    : c === 'payload' || c === 'signature' || c === 'prev_hash' || c === 'hash'
      ? `encode(${c}, 'hex')`
      : c,
).join(', ');

const epochMs = (v: string | null): Date => new Date(Number(v));
const bytes = (v: string | null): Buffer | null => (v === null ? null : Buffer.from(v, 'hex'));

/** Where LEDGER_COPY_SELECT has the decisions (jsonb text). */
export const COPY_DECISIONS_FIELD = LEDGER_COLUMNS.indexOf('decisions');

/**
 * One row of LEDGER_COPY_SELECT as COPY text fields, as pg would have returned it. With
 * `parseDecisions` false the decisions are left empty (the caller has their text, field
 * COPY_DECISIONS_FIELD, and parses them only if it needs the objects).
 */
export function copyFieldsToRow(f: readonly (string | null)[], parseDecisions = true): LedgerRow {
  return {
    seq: f[0]!,
    topic: f[1]!,
    kafka_partition: Number(f[2]),
    kafka_offset: f[3]!,
    recorded_at: epochMs(f[4]!),
    event_id: f[5]!,
    type: f[6]!,
    occurred_at: epochMs(f[7]!),
    service: f[8]!,
    actor: f[9]!,
    alert_id: f[10]!,
    alert_version: f[11] === null ? null : Number(f[11]),
    originator: f[12]!,
    notice_type: f[13]!,
    agency: f[14]!,
    policy_version: f[15]!,
    decisions: parseDecisions ? (JSON.parse(f[16]!) as RecipientDecision[]) : [],
    reason: f[17]!,
    details: JSON.parse(f[18]!) as Record<string, string>,
    payload: bytes(f[19]!),
    signer: f[20]!,
    signer_key_id: f[21]!,
    signature: bytes(f[22]!),
    prev_hash: bytes(f[23]!)!,
    hash: bytes(f[24]!)!,
  };
}

export function entryToParams(entry: LedgerEntry, prevHash: Buffer, hash: Buffer): unknown[] {
  const e = entry.event;
  return [
    entry.seq,
    entry.topic,
    entry.partition,
    entry.offset,
    entry.recordedAt,
    e.eventId,
    e.type,
    e.occurredAt,
    e.service,
    e.actor,
    e.alertId,
    e.alertVersion,
    e.originator,
    e.noticeType,
    e.agency,
    e.policyVersion,
    JSON.stringify(e.decisions),
    e.reason,
    JSON.stringify(e.details),
    e.payload,
    e.signature?.signer ?? null,
    e.signature?.keyId ?? null,
    e.signature?.value ?? null,
    prevHash,
    hash,
  ];
}

export function rowToEntry(row: LedgerRow): LedgerEntry {
  const event: AuditEvent = {
    eventId: row.event_id,
    // The column holds whatever was stored (even a tampered value); the hash check judges it.
    type: row.type as AuditEventType,
    occurredAt: row.occurred_at,
    service: row.service,
    actor: row.actor,
    alertId: row.alert_id,
    alertVersion: row.alert_version,
    originator: row.originator,
    noticeType: row.notice_type,
    agency: row.agency,
    policyVersion: row.policy_version,
    decisions: row.decisions,
    reason: row.reason,
    details: row.details,
    payload: row.payload,
    signature:
      row.signer !== null && row.signer_key_id !== null && row.signature !== null
        ? { signer: row.signer, keyId: row.signer_key_id, value: row.signature }
        : null,
  };
  return {
    seq: String(row.seq),
    topic: row.topic,
    partition: row.kafka_partition,
    offset: String(row.kafka_offset),
    recordedAt: row.recorded_at,
    event,
  };
}

/** The public JSON view of a row (API, export). */
export function rowToJson(row: LedgerRow): Record<string, unknown> {
  return {
    seq: Number(row.seq),
    eventId: row.event_id,
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    service: row.service,
    actor: row.actor,
    alertId: row.alert_id,
    alertVersion: row.alert_version,
    originator: row.originator,
    noticeType: row.notice_type,
    agency: row.agency,
    policyVersion: row.policy_version,
    decisions: row.decisions,
    reason: row.reason,
    details: row.details,
    signer: row.signer,
    kafka: { topic: row.topic, partition: row.kafka_partition, offset: row.kafka_offset },
    hash: row.hash.toString('hex'),
  };
}
