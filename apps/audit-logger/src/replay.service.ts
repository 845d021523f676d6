import { randomUUID } from 'node:crypto';
import type { Producer, Message } from 'kafkajs';
import type pg from 'pg';
import { alertCodec, deliveryCodec, type Alert, type EventSigningKey, type Delivery, type FieldGroup, type RecipientDecision } from '@backbone/codec';
import { auditEvent, encodeAuditEvent, type TopicNames } from '@backbone/kafka';
import { applyObligations } from '@backbone/policy';
import { AUDIT_SCHEMA } from './ledger.schema.js';
import { LEDGER_SELECT, type LedgerRow } from './ledger-row.mapper.js';

const L = `${AUDIT_SCHEMA}.ledger`;
const PAGE = 500;

export interface ReplayRequest {
  agency: string;
  since: Date;
  until: Date;
  actor: string;
  /** The audit logger's event key: REPLAYED events are signed like every other. */
  signer?: EventSigningKey | null;
}

export interface ReplayResult {
  agency: string;
  topic: string;
  replayed: number;
  /** Decisions allowed in the range whose SUBMITTED payload is not in the ledger (cannot be rebuilt). */
  missingPayload: { alertId: string | null; alertVersion: number | null }[];
  deliveries: { alertId: string; alertVersion: number; deliveryId: string; redactedGroups: string[] }[];
}

/** DECIDED rows in a range, page by page (keyset on seq). */
async function* decidedRows(pool: pg.Pool, since: Date, until: Date, agency?: string): AsyncGenerator<LedgerRow[]> {
  let after = '0';
  for (;;) {
    const params: unknown[] = [since, until, after];
    let extra = '';
    if (agency) {
      params.push(JSON.stringify([{ agency }]));
      extra = ` AND decisions @> $4::jsonb`;
    }
    const page = (
      await pool.query<LedgerRow>(
        `SELECT ${LEDGER_SELECT} FROM ${L} WHERE type = 'DECIDED' AND occurred_at >= $1 AND occurred_at < $2 AND seq > $3${extra} ORDER BY seq LIMIT ${PAGE}`,
        params,
      )
    ).rows;
    if (page.length > 0) yield page;
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.seq;
  }
}

/** The first SUBMITTED payload of each (alertId, version) asked for. */
export async function submittedPayloads(pool: pg.Pool, keys: { alertId: string; version: number }[]): Promise<Map<string, Buffer>> {
  if (keys.length === 0) return new Map();
  const r = await pool.query<{ alert_id: string; alert_version: number; payload: Buffer }>(
    `SELECT DISTINCT ON (alert_id, alert_version) alert_id, alert_version, payload FROM ${L}
      WHERE type = 'SUBMITTED' AND payload IS NOT NULL
        AND (alert_id, alert_version) IN (SELECT * FROM unnest($1::text[], $2::int[]))
      ORDER BY alert_id, alert_version, seq`,
    [keys.map((k) => k.alertId), keys.map((k) => k.version)],
  );
  return new Map(r.rows.map((row) => [`${row.alert_id}/${row.alert_version}`, row.payload]));
}

function isAllowed(d: RecipientDecision): d is RecipientDecision & { outcome: 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS' } {
  return d.outcome === 'ALLOW' || d.outcome === 'ALLOW_WITH_OBLIGATIONS';
}

/** The Delivery the gate would have produced then, rebuilt from the ledger, marked replay: true. */
export function replayDelivery(alert: Alert, decided: LedgerRow, d: RecipientDecision & { outcome: 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS' }): Delivery {
  const groups = d.redactedGroups as FieldGroup[];
  const redacted = applyObligations(alert, { agency: d.agency, outcome: d.outcome, redactedGroups: groups });
  return {
    deliveryId: randomUUID(),
    recipient: d.agency,
    alertId: alert.alertId,
    alertVersion: alert.version,
    msgType: alert.msgType,
    decidedAt: decided.occurred_at,
    policyVersion: decided.policy_version ?? 'unknown',
    ruleId: d.ruleId,
    outcome: d.outcome,
    redactedGroups: groups,
    executionFlags: d.executionFlags,
    // Schema: H2 or stricter forbids re-sharing; the DECIDED event does not carry the flag itself.
    noReshare: alert.handlingCode === 'H2' || alert.handlingCode === 'H3',
    recall: false,
    replay: true,
    alert: alertCodec.encode(redacted),
  };
}

/**
 * Re-delivers to one agency's feed every alert version it was allowed in the range, exactly as
 * decided then (the recorded redactions and rule, not today's policy), plus a REPLAYED audit
 * event per delivery. Not transactional across the two topics: a failure part-way leaves the
 * earlier pages replayed and audited; re-running is safe for a subscriber that dedupes by
 * alertId + version.
 */
export async function replayToAgency(pool: pg.Pool, producer: Producer, topics: TopicNames, req: ReplayRequest): Promise<ReplayResult> {
  const topic = topics.feedFor(req.agency);
  const result: ReplayResult = { agency: req.agency, topic, replayed: 0, missingPayload: [], deliveries: [] };
  for await (const page of decidedRows(pool, req.since, req.until, req.agency)) {
    const wanted = page
      .map((row) => ({ row, d: row.decisions.find((x) => x.agency === req.agency) }))
      .filter((x): x is { row: LedgerRow; d: RecipientDecision & { outcome: 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS' } } => x.d !== undefined && isAllowed(x.d));
    const payloads = await submittedPayloads(
      pool,
      wanted.filter((w) => w.row.alert_id !== null && w.row.alert_version !== null).map((w) => ({ alertId: w.row.alert_id!, version: w.row.alert_version! })),
    );
    const feed: Message[] = [];
    const audit: Message[] = [];
    for (const { row, d } of wanted) {
      const payload = payloads.get(`${row.alert_id}/${row.alert_version}`);
      if (!payload) {
        result.missingPayload.push({ alertId: row.alert_id, alertVersion: row.alert_version });
        continue;
      }
      const alert = alertCodec.decode(payload);
      const delivery = replayDelivery(alert, row, d);
      feed.push({ key: delivery.alertId, value: deliveryCodec.encode(delivery) });
      audit.push({
        key: delivery.alertId,
        value: encodeAuditEvent(
          auditEvent('REPLAYED', 'audit-logger', {
            actor: req.actor,
            alertId: delivery.alertId,
            alertVersion: delivery.alertVersion,
            originator: alert.sender,
            noticeType: alert.noticeType,
            agency: req.agency,
            policyVersion: delivery.policyVersion,
            decisions: [d],
            details: { deliveryId: delivery.deliveryId, decidedSeq: String(row.seq) },
          }),
          req.signer ?? null,
        ),
      });
      result.deliveries.push({ alertId: delivery.alertId, alertVersion: delivery.alertVersion, deliveryId: delivery.deliveryId, redactedGroups: delivery.redactedGroups });
    }
    if (feed.length > 0) {
      await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: feed }, { topic: topics.audit, messages: audit }] });
      result.replayed += feed.length;
    }
  }
  return result;
}

export { decidedRows };
