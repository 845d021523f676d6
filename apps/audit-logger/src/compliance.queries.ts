import pg from 'pg';
import type { RecipientDecision } from '@backbone/codec';
import { AUDIT_SCHEMA, LEDGER_SELECT, rowToJson, type LedgerRow } from '@backbone/ledger';
import { streamCopyRows, streamRows, type CopyField } from '@backbone/persistence';

const L = `${AUDIT_SCHEMA}.ledger`;

export interface RecipientTrail {
  agency: string;
  alertVersion: number | null;
  outcome: string;
  ruleId: string;
  policyVersion: string | null;
  decidedAt: string;
  redactedGroups: string[];
  executionFlags: string[];
  /** What was withheld and why: the whole alert when denied/held, else the redacted groups. */
  withheld: { what: string; why: string } | null;
  deliveredAt: string | null;
  acknowledgedAt: string | null;
  replayedAt: string[];
}

export interface AlertTrail {
  alertId: string;
  events: Record<string, unknown>[];
  recipients: RecipientTrail[];
}

/** Who got an alert, when, under which rule and policy version, and what was withheld. */
export async function alertTrail(pool: pg.Pool, alertId: string): Promise<AlertTrail> {
  const rows = (await pool.query<LedgerRow>(`SELECT ${LEDGER_SELECT} FROM ${L} WHERE alert_id = $1 ORDER BY seq`, [alertId])).rows;
  const byKey = new Map<string, RecipientTrail>();
  const key = (agency: string, version: number | null): string => `${agency}\u0000${version ?? ''}`;
  for (const row of rows) {
    if (row.type === 'DECIDED') {
      for (const d of row.decisions) {
        byKey.set(key(d.agency, row.alert_version), {
          agency: d.agency,
          alertVersion: row.alert_version,
          outcome: d.outcome,
          ruleId: d.ruleId,
          policyVersion: row.policy_version,
          decidedAt: row.occurred_at.toISOString(),
          redactedGroups: d.redactedGroups,
          executionFlags: d.executionFlags,
          withheld: withheldOf(d),
          deliveredAt: null,
          acknowledgedAt: null,
          replayedAt: [],
        });
      }
    } else if (row.agency !== null) {
      const t = byKey.get(key(row.agency, row.alert_version));
      if (!t) continue;
      if (row.type === 'DELIVERED') t.deliveredAt ??= row.occurred_at.toISOString();
      if (row.type === 'ACKNOWLEDGED') t.acknowledgedAt ??= row.occurred_at.toISOString();
      if (row.type === 'REPLAYED') t.replayedAt.push(row.occurred_at.toISOString());
    }
  }
  return { alertId, events: rows.map(rowToJson), recipients: [...byKey.values()] };
}

function withheldOf(d: RecipientDecision): { what: string; why: string } | null {
  if (d.outcome === 'DENY' || d.outcome === 'HOLD') return { what: 'the whole alert', why: d.ruleId };
  if (d.redactedGroups.length > 0) return { what: d.redactedGroups.join(', '), why: d.ruleId };
  return null;
}

export interface AgencyFilter {
  agency: string;
  since: Date;
  until: Date;
  types?: string[];
  originator?: string;
  noticeType?: string;
}

/** Puts a value into the SQL text: as a bind parameter (`$n`), or as a literal where none is allowed (COPY). */
type Bind = (value: string | Date | readonly string[], cast?: string) => string;

function paramsBinder(params: unknown[]): Bind {
  return (value, cast) => {
    params.push(value);
    return `$${params.length}${cast ? `::${cast}` : ''}`;
  };
}

/** A timestamp as node-postgres sends a Date parameter (UTC form): the same instant, BC and years past 9999 included. */
function timestampLiteral(d: Date): string {
  let year = d.getUTCFullYear();
  const bc = year < 1;
  if (bc) year = Math.abs(year) + 1;
  const two = (n: number): string => String(n).padStart(2, '0');
  const text =
    `${String(year).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:` +
    `${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}+00:00${bc ? ' BC' : ''}`;
  return `'${text}'::timestamptz`;
}

/** Values as escaped literals (pg's escapeLiteral), for statements that take no parameters. */
const literalBinder: Bind = (value, cast) => {
  const text =
    value instanceof Date
      ? timestampLiteral(value)
      : typeof value === 'string'
        ? pg.escapeLiteral(value)
        : `ARRAY[${value.map((v) => pg.escapeLiteral(v)).join(',')}]::text[]`;
  return cast && !(value instanceof Date) && typeof value === 'string' ? `${text}::${cast}` : text;
};

/**
 * Events concerning an agency: those naming it (DELIVERED, ACKNOWLEDGED, PURGED, REPLAYED…) and
 * DECIDED events with a decision for it (delivered or refused). Index: agency / GIN on decisions.
 */
function agencyWhere(f: AgencyFilter, bind: Bind): string {
  const agency = bind(f.agency);
  const decisions = bind(JSON.stringify([{ agency: f.agency }]), 'jsonb');
  // AUDIT_ACCESSED rows name the agency a compliance user asked about; the agency received nothing.
  const clauses = [
    `(agency = ${agency} OR (type = 'DECIDED' AND decisions @> ${decisions}))`,
    `type <> 'AUDIT_ACCESSED'`,
    `occurred_at >= ${bind(f.since)}`,
    `occurred_at < ${bind(f.until)}`,
  ];
  if (f.types && f.types.length > 0) clauses.push(`type = ANY(${bind(f.types, 'text[]')})`);
  if (f.originator) clauses.push(`originator = ${bind(f.originator)}`);
  if (f.noticeType) clauses.push(`notice_type = ${bind(f.noticeType)}`);
  return clauses.join(' AND ');
}

/** One row of an agency's history, with its own decision pulled out of DECIDED. */
export function agencyView(row: LedgerRow, agency: string): Record<string, unknown> {
  const mine = row.type === 'DECIDED' ? row.decisions.find((d) => d.agency === agency) : undefined;
  return {
    seq: Number(row.seq),
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    alertId: row.alert_id,
    alertVersion: row.alert_version,
    originator: row.originator,
    noticeType: row.notice_type,
    agency,
    service: row.service,
    actor: row.actor,
    policyVersion: row.policy_version,
    outcome: mine?.outcome ?? null,
    delivered: mine
      ? mine.outcome === 'ALLOW' || mine.outcome === 'ALLOW_WITH_OBLIGATIONS'
      : row.type === 'DELIVERED' || row.type === 'REPLAYED'
        ? true
        : null,
    ruleId: mine?.ruleId ?? null,
    redactedGroups: mine?.redactedGroups ?? [],
    executionFlags: mine?.executionFlags ?? [],
    reason: row.reason,
  };
}

/**
 * The agency's rows after `afterSeq`, in seq order, through one server-side cursor fetched
 * `batchRows` at a time as the consumer asks: one index scan for the whole range and constant
 * memory however long it is (a slow HTTP client holds back the cursor, not the heap).
 */
export async function* agencyRows(pool: pg.Pool, f: AgencyFilter, batchRows = 2000, afterSeq = 0): AsyncGenerator<LedgerRow> {
  const params: unknown[] = [];
  const where = agencyWhere(f, paramsBinder(params));
  params.push(String(afterSeq));
  const text = `SELECT ${LEDGER_SELECT} FROM ${L} WHERE ${where} AND seq > $${params.length} ORDER BY seq`;
  for await (const batch of streamRows<LedgerRow>(pool, text, params, { batchRows })) yield* batch;
}

export async function countAgencyRows(pool: pg.Pool, f: AgencyFilter): Promise<number> {
  const params: unknown[] = [];
  const where = agencyWhere(f, paramsBinder(params));
  const r = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${L} WHERE ${where}`, params);
  return Number(r.rows[0]?.n ?? 0);
}

export const CSV_COLUMNS = [
  'seq',
  'type',
  'occurredAt',
  'alertId',
  'alertVersion',
  'originator',
  'noticeType',
  'agency',
  'service',
  'actor',
  'policyVersion',
  'outcome',
  'delivered',
  'ruleId',
  'redactedGroups',
  'executionFlags',
  'reason',
] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(';') : String(v);
  // RFC 4180 quoting; a leading = + - @ (or tab / carriage return, which spreadsheets skip before
  // reading a formula: OWASP CSV injection) is prefixed so the cell is never run as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(view: Record<string, unknown>): string {
  return CSV_COLUMNS.map((c) => csvCell(view[c])).join(',') + '\r\n';
}

export type ExportFormat = 'ndjson' | 'csv';

/**
 * What agencyView reads of a row, for COPY: the occurrence time as epoch milliseconds and, of a
 * DECIDED row, only the agency's own decision (the first naming it, as Array.find picks it),
 * picked out by PostgreSQL instead of sending and parsing every recipient's.
 */
function exportSelect(agency: string): string {
  const mine =
    `(SELECT d FROM jsonb_array_elements(decisions) WITH ORDINALITY AS x(d, i) ` +
    `WHERE d -> 'agency' = to_jsonb(${pg.escapeLiteral(agency)}::text) ORDER BY i LIMIT 1)`;
  return (
    `seq, type, floor(extract(epoch FROM occurred_at) * 1000), alert_id, alert_version, originator, notice_type, ` +
    `service, actor, policy_version, CASE WHEN type = 'DECIDED' THEN ${mine} END, reason`
  );
}
const EXPORT_COLUMNS = 12;

/** agencyView of one exportSelect row: the same object, key for key. */
export function exportView(f: readonly CopyField[], agency: string): Record<string, unknown> {
  const type = f[1]!;
  const mine = type === 'DECIDED' && f[10] !== null ? (JSON.parse(f[10]) as Partial<RecipientDecision>) : undefined;
  return {
    seq: Number(f[0]),
    type,
    occurredAt: new Date(Number(f[2])).toISOString(),
    alertId: f[3],
    alertVersion: f[4] === null ? null : Number(f[4]),
    originator: f[5],
    noticeType: f[6],
    agency,
    service: f[7],
    actor: f[8],
    policyVersion: f[9],
    outcome: mine?.outcome ?? null,
    delivered: mine
      ? mine.outcome === 'ALLOW' || mine.outcome === 'ALLOW_WITH_OBLIGATIONS'
      : type === 'DELIVERED' || type === 'REPLAYED'
        ? true
        : null,
    ruleId: mine?.ruleId ?? null,
    redactedGroups: mine?.redactedGroups ?? [],
    executionFlags: mine?.executionFlags ?? [],
    reason: f[11],
  };
}

/**
 * The agency's rows as agencyView objects, in seq order, through one `COPY (SELECT …) TO STDOUT`:
 * one index scan, rows decoded as they stream in, no row objects or type parsing beyond the
 * columns the view shows; the COPY is paused while the consumer (an HTTP response) drains.
 */
export async function* agencyViews(pool: pg.Pool, f: AgencyFilter): AsyncGenerator<Record<string, unknown>[]> {
  const text = `SELECT ${exportSelect(f.agency)} FROM ${L} WHERE ${agencyWhere(f, literalBinder)} ORDER BY seq`;
  for await (const rows of streamCopyRows(pool, text, { columns: EXPORT_COLUMNS })) yield rows.map((r) => exportView(r, f.agency));
}

/** The export as text chunks (about 500 rows each), pulled as the reader drains them, ready to pipe into an HTTP response or a file. */
export async function* exportChunks(
  pool: pg.Pool,
  f: AgencyFilter,
  format: ExportFormat,
  onRows?: (n: number) => void,
): AsyncGenerator<string> {
  if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
  let buf = '';
  let n = 0;
  for await (const views of agencyViews(pool, f)) {
    for (const view of views) {
      buf += format === 'csv' ? csvLine(view) : JSON.stringify(view) + '\n';
      if (++n % 500 === 0) {
        yield buf;
        buf = '';
        onRows?.(500);
      }
    }
  }
  if (buf) yield buf;
  onRows?.(n % 500);
}

export interface SetAsideRecord {
  seq: string;
  topic: string;
  partition: number;
  offset: string;
  recordedAt: string;
  /** PARKED (PostgreSQL refused it; also on the dead-letter topic) or UNDECODABLE. */
  kind: string;
  /** The dead-letter reason (UNSTORABLE, FORGED, …) of a parked record. */
  parkReason: string | null;
  deadLetterId: string | null;
  detail: string | null;
  /** The original record bytes, base64. */
  value: string | null;
}

/** Records the ingest set aside (parked or undecodable), oldest first, with a keyset cursor on seq. */
export async function setAsideRecords(pool: pg.Pool, afterSeq: string, limit: number): Promise<SetAsideRecord[]> {
  const rows = (
    await pool.query<LedgerRow>(
      `SELECT ${LEDGER_SELECT} FROM ${L} WHERE type = 'UNKNOWN' AND reason IN ('PARKED', 'UNDECODABLE') AND seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    )
  ).rows;
  return rows.map((r) => ({
    seq: String(r.seq),
    topic: r.topic,
    partition: r.kafka_partition,
    offset: String(r.kafka_offset),
    recordedAt: r.recorded_at.toISOString(),
    kind: r.reason ?? 'UNKNOWN',
    parkReason: r.details['parkReason'] ?? null,
    deadLetterId: r.details['deadLetterId'] ?? null,
    detail: r.details['detail'] ?? r.details['error'] ?? null,
    value: r.payload ? r.payload.toString('base64') : null,
  }));
}
