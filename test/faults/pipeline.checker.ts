import type pg from 'pg';
import { alertCodec, auditEventCodec, deliveryCodec, type Alert } from '@backbone/codec';
import { decide, type CompiledPolicy } from '@backbone/policy';
import type { TopicNames } from '@backbone/kafka';
import type { RequestRecord } from './alert.load.js';
import type { TopicReader } from './topic.reader.js';

/** What the independent checker found over everything published so far. */
export interface CheckReport {
  /** (alert, agency) pairs an allowed agency's inbox lacks or holds at an older version or state, plus 201s not on alerts.submitted. */
  lost: string[];
  /** A feed delivery more than once, a key's content published more than once, a ledger event more than once. */
  duplicated: string[];
  /** An alert in the inbox of an agency the policy does not allow. */
  leaked: string[];
  /** Audit events on the topic that the ledger lacks. */
  ledgerMissing: string[];
  ledgerVerified: boolean;
  ledgerRows: number;
  /** Why verify failed (its first break, or why the anchors could not be compared); null when it passed. */
  ledgerProblem: string | null;
  /** (alert, agency) pairs the oracle allowed and denied: both must occur for the check to mean much. */
  allowedPairs: number;
  deniedPairs: number;
}

/** What GET /compliance/verify answered, as far as the checker needs it. */
export interface LedgerVerdict {
  ok: boolean;
  rows: number;
  headSeq?: number;
  firstBreak?: { seq: number; kind: string; message: string } | null;
  anchorProblem?: string | null;
}

/** A failed verify in one line: its first break (seq, kind, message) or why the anchors could not be compared. */
export function describeVerifyFailure(v: LedgerVerdict): string {
  const parts: string[] = [];
  if (v.firstBreak) parts.push(`first break at seq ${v.firstBreak.seq} (${v.firstBreak.kind}): ${v.firstBreak.message}`);
  if (v.anchorProblem) parts.push(`anchors not compared: ${v.anchorProblem}`);
  if (parts.length === 0) parts.push('verify answered ok=false without a break or an anchor problem');
  return `${parts.join('; ')} (${v.rows} rows, head ${v.headSeq ?? '?'})`;
}

interface Submitted {
  alert: Alert;
  at: Date;
}

const ALLOWED = new Set(['ALLOW', 'ALLOW_WITH_OBLIGATIONS']);

/**
 * The independent checker: reads what is on Kafka (read_committed), in each agency's inbox and in
 * the ledger, and compares it with what the policy engine (the oracle) says each accepted alert's
 * latest version must have reached. It shares no code with the services' own bookkeeping.
 */
export async function checkPipeline(o: {
  topics: TopicNames;
  agencies: readonly string[];
  compiled: CompiledPolicy;
  reader: TopicReader;
  requests: readonly RequestRecord[];
  pool: pg.Pool;
  schemaOf: (agency: string) => string;
  verifyLedger: () => Promise<LedgerVerdict>;
}): Promise<CheckReport> {
  const report: CheckReport = {
    lost: [],
    duplicated: [],
    leaked: [],
    ledgerMissing: [],
    ledgerVerified: false,
    ledgerRows: 0,
    ledgerProblem: null,
    allowedPairs: 0,
    deniedPairs: 0,
  };

  // alerts.submitted: every committed version, and the keys (markers) whose content it carries.
  const byAlert = new Map<string, Submitted[]>();
  const byMarker = new Map<string, Set<string>>();
  for (const r of o.reader.records(o.topics.submitted)) {
    const alert = alertCodec.decode(r.value);
    const list = byAlert.get(alert.alertId) ?? [];
    list.push({ alert, at: new Date(Number(r.timestamp)) });
    byAlert.set(alert.alertId, list);
    const marker = alert.msgType === 'Cancel' ? alert.description : alert.headline;
    const versions = byMarker.get(marker) ?? new Set<string>();
    const id = `${alert.alertId}@${alert.version}`;
    if (versions.has(id)) report.duplicated.push(`alerts.submitted holds ${id} twice`);
    versions.add(id);
    byMarker.set(marker, versions);
  }
  for (const [marker, versions] of byMarker)
    if (versions.size > 1) report.duplicated.push(`key ${marker} published ${versions.size} times: ${[...versions].join(', ')}`);
  for (const rec of o.requests) {
    if (rec.status !== 201) continue;
    const found = (byAlert.get(rec.alertId ?? '') ?? []).some((s) => s.alert.version === rec.version);
    if (!found) report.lost.push(`accepted ${rec.op} ${rec.alertId}@${rec.version} (key ${rec.key}) is not on alerts.submitted`);
  }

  // Feeds: each (alert, version) once per agency.
  const onFeed = new Map<string, Map<string, number>>();
  for (const agency of o.agencies) {
    const counts = new Map<string, number>();
    onFeed.set(agency, counts);
    for (const r of o.reader.records(o.topics.feedFor(agency))) {
      const d = deliveryCodec.decode(r.value);
      if (d.replay) continue;
      const id = `${d.alertId}@${d.alertVersion}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, n] of counts) if (n > 1) report.duplicated.push(`${agency} feed carries ${id} ${n} times`);
  }

  // Inboxes against the oracle: the latest version, cancelled when the latest is a Cancel.
  for (const agency of o.agencies) {
    const rows = await o.pool.query<{ alert_id: string; version: number; state: string }>(
      `SELECT alert_id, version, state FROM ${o.schemaOf(agency)}.alerts`,
    );
    const inbox = new Map(rows.rows.map((r) => [r.alert_id, r]));
    for (const [alertId, versions] of byAlert) {
      const first = versions.reduce((a, b) => (a.alert.version <= b.alert.version ? a : b));
      const latest = versions.reduce((a, b) => (a.alert.version >= b.alert.version ? a : b));
      // Updates keep everything the policy looks at, so version 1 decides for all versions.
      const allowed = ALLOWED.has(decide(first.alert, o.compiled, first.at).outcomes.find((x) => x.agency === agency)?.outcome ?? 'DENY');
      const row = inbox.get(alertId);
      if (allowed) report.allowedPairs++;
      else report.deniedPairs++;
      if (!allowed) {
        if (row) report.leaked.push(`${agency} holds ${alertId}, which the policy denies it`);
        continue;
      }
      const state = latest.alert.msgType === 'Cancel' ? 'CANCELLED' : 'ACTIVE';
      if (!row || row.version !== latest.alert.version || row.state !== state) {
        // Where it was lost: the gate never delivered it, or the subscriber did not store what its feed carries.
        const fed = onFeed.get(agency)?.has(`${alertId}@${latest.alert.version}`) ? 'on its feed' : 'not on its feed';
        report.lost.push(
          `${agency} holds ${row ? `${alertId}@${row.version} ${row.state}` : `no ${alertId}`}, expected @${latest.alert.version} ${state} (${fed})`,
        );
      }
    }
  }

  // Ledger: every audit event on the topic exactly once, and the chain verifies.
  const onTopic = new Set<string>();
  for (const r of o.reader.records(o.topics.audit)) onTopic.add(auditEventCodec.decode(r.value).eventId);
  const ledger = await o.pool.query<{ event_id: string; n: string }>(`SELECT event_id, count(*) AS n FROM audit.ledger GROUP BY event_id`);
  const inLedger = new Map(ledger.rows.map((r) => [r.event_id, Number(r.n)]));
  for (const [id, n] of inLedger) if (n > 1) report.duplicated.push(`ledger holds event ${id} ${n} times`);
  for (const id of onTopic) if (!inLedger.has(id)) report.ledgerMissing.push(id);
  const verify = await o.verifyLedger();
  report.ledgerVerified = verify.ok;
  report.ledgerRows = verify.rows;
  report.ledgerProblem = verify.ok ? null : describeVerifyFailure(verify);
  return report;
}
