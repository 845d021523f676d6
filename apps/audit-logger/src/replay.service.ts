import { randomUUID } from 'node:crypto';
import type { Producer, Message } from 'kafkajs';
import type pg from 'pg';
import {
  alertCodec,
  deliveryCodec,
  unstorableFields,
  type Alert,
  type Delivery,
  type EventSigningKey,
  type FieldGroup,
  type RecipientDecision,
} from '@backbone/codec';
import { auditEvent, encodeAuditEvent, type TopicNames } from '@backbone/kafka';
import { applyObligations } from '@backbone/policy';
import { AUDIT_SCHEMA, LEDGER_SELECT, type LedgerRow } from '@backbone/ledger';

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
  /** Alerts of the range not replayed, with why (never resurrecting a cancelled or withdrawn alert). */
  skipped: {
    alertId: string;
    alertVersion: number;
    reason: 'latest-version-not-allowed' | 'cancelled-after-range' | 'unstorable-record';
  }[];
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
export function replayDelivery(
  alert: Alert,
  decided: LedgerRow,
  d: RecipientDecision & { outcome: 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS' },
): Delivery {
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
 * A transactional producer runs one transaction at a time: concurrent replays (found by the HTTP
 * fuzz as 500 "already an ongoing transaction") take turns, page by page.
 */
const turns = new WeakMap<Producer, Promise<unknown>>();
async function exclusively<T>(producer: Producer, work: () => Promise<T>): Promise<T> {
  const run = (turns.get(producer) ?? Promise.resolve()).then(work);
  turns.set(
    producer,
    run.catch(() => undefined),
  );
  return run;
}

/** Longest range one replay may cover. */
export const REPLAY_MAX_RANGE_DAYS = 31;
/** Most alerts one replay may re-deliver; a larger range is refused (split it). */
export const REPLAY_MAX_ALERTS = 10_000;

/** A replay request beyond the bounds, or of a record no store can hold: answered 400 with `reason`. */
export class ReplayRefusedError extends Error {
  override readonly name = 'ReplayRefusedError';
  constructor(
    readonly reason: 'replay-range-too-long' | 'replay-too-large',
    message: string,
  ) {
    super(message);
  }
}

/** The refusals a replay's size and range can meet, checked before anything is sent. */
export async function checkReplayBounds(pool: pg.Pool, req: ReplayRequest): Promise<void> {
  if (req.until.getTime() - req.since.getTime() > REPLAY_MAX_RANGE_DAYS * 86_400_000) {
    throw new ReplayRefusedError('replay-range-too-long', `a replay covers at most ${REPLAY_MAX_RANGE_DAYS} days; split the range`);
  }
  const r = await pool.query<{ n: number }>(
    `SELECT count(DISTINCT alert_id)::int AS n FROM ${L} WHERE type = 'DECIDED' AND occurred_at >= $1 AND occurred_at < $2 AND decisions @> $3::jsonb`,
    [req.since, req.until, JSON.stringify([{ agency: req.agency }])],
  );
  const n = r.rows[0]?.n ?? 0;
  if (n > REPLAY_MAX_ALERTS)
    throw new ReplayRefusedError('replay-too-large', `${n} alerts in the range; a replay re-delivers at most ${REPLAY_MAX_ALERTS}`);
}

/** Alerts (of those given) with a Cancel decided after `until`: replaying an earlier state would resurrect them. */
async function cancelledAfter(pool: pg.Pool, alertIds: string[], until: Date): Promise<Set<string>> {
  if (alertIds.length === 0) return new Set();
  const r = await pool.query<{ alert_id: string }>(
    `SELECT DISTINCT alert_id FROM ${L} WHERE type = 'DECIDED' AND occurred_at >= $2 AND alert_id = ANY($1::text[]) AND details->>'msgType' = 'Cancel'`,
    [alertIds, until],
  );
  return new Set(r.rows.map((row) => row.alert_id));
}

/**
 * Re-delivers to one agency's feed the latest state, in the range, of each alert it was decided
 * for, exactly as decided then (the recorded redactions and rule, not today's policy), Cancels
 * included. An alert is never resurrected: when its latest version in the range was not allowed
 * for the agency, or it was cancelled after the range, nothing of it is replayed (listed in
 * `skipped`). Each page's deliveries and their REPLAYED audit events commit in one Kafka
 * transaction, so a delivery is never replayed unaudited (or audited unreplayed).
 */
export async function replayToAgency(pool: pg.Pool, producer: Producer, topics: TopicNames, req: ReplayRequest): Promise<ReplayResult> {
  await checkReplayBounds(pool, req);
  const topic = topics.feedFor(req.agency);
  const result: ReplayResult = { agency: req.agency, topic, replayed: 0, missingPayload: [], deliveries: [], skipped: [] };
  // The latest decided version of each alert in the range (rows come in seq order, pages bounded).
  const latest = new Map<string, LedgerRow>();
  for await (const page of decidedRows(pool, req.since, req.until, req.agency)) {
    for (const row of page) {
      if (row.alert_id === null || row.alert_version === null) continue;
      const seen = latest.get(row.alert_id);
      if (!seen || (seen.alert_version ?? 0) < row.alert_version) latest.set(row.alert_id, row);
    }
  }
  const rows = [...latest.values()];
  for (let i = 0; i < rows.length; i += PAGE) {
    const page = rows.slice(i, i + PAGE);
    const laterCancels = await cancelledAfter(
      pool,
      page.map((r) => r.alert_id!),
      req.until,
    );
    const wanted: { row: LedgerRow; d: RecipientDecision & { outcome: 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS' } }[] = [];
    for (const row of page) {
      const d = row.decisions.find((x) => x.agency === req.agency);
      if (laterCancels.has(row.alert_id!))
        result.skipped.push({ alertId: row.alert_id!, alertVersion: row.alert_version!, reason: 'cancelled-after-range' });
      else if (d === undefined || !isAllowed(d))
        result.skipped.push({ alertId: row.alert_id!, alertVersion: row.alert_version!, reason: 'latest-version-not-allowed' });
      else wanted.push({ row, d });
    }
    const payloads = await submittedPayloads(
      pool,
      wanted.map((w) => ({ alertId: w.row.alert_id!, version: w.row.alert_version! })),
    );
    const feed: Message[] = [];
    const audit: Message[] = [];
    const delivered: ReplayResult['deliveries'] = [];
    for (const { row, d } of wanted) {
      const payload = payloads.get(`${row.alert_id}/${row.alert_version}`);
      if (!payload) {
        result.missingPayload.push({ alertId: row.alert_id, alertVersion: row.alert_version });
        continue;
      }
      const alert = alertCodec.decode(payload);
      // The shared storable rules: a record no inbox can hold is not pushed into a feed.
      if (unstorableFields(alert).length > 0) {
        result.skipped.push({ alertId: alert.alertId, alertVersion: alert.version, reason: 'unstorable-record' });
        continue;
      }
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
            details: { deliveryId: delivery.deliveryId, decidedSeq: String(row.seq), msgType: alert.msgType },
          }),
          req.signer ?? null,
        ),
      });
      delivered.push({
        alertId: delivery.alertId,
        alertVersion: delivery.alertVersion,
        deliveryId: delivery.deliveryId,
        redactedGroups: delivery.redactedGroups,
      });
    }
    if (feed.length > 0) {
      await exclusively(producer, async () => {
        const txn = await producer.transaction();
        try {
          await txn.sendBatch({
            topicMessages: [
              { topic, messages: feed },
              { topic: topics.audit, messages: audit },
            ],
          });
          await txn.commit();
        } catch (err) {
          await txn.abort().catch(() => undefined);
          throw err;
        }
      });
      result.replayed += feed.length;
      result.deliveries.push(...delivered);
    }
  }
  return result;
}

export { decidedRows };
