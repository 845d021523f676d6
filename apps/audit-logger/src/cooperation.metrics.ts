import { join } from 'node:path';
import type pg from 'pg';
import { loadRegistry } from '@backbone/policy';
import { AUDIT_SCHEMA } from '@backbone/ledger';

// Cooperation metrics for the console's charts, computed from the ledger alone (the seed
// documents ask for "metrics for evaluating effectiveness" of cross-border cooperation).
// Read-only aggregates: no alert content, only counts and durations.

const L = `${AUDIT_SCHEMA}.ledger`;

export interface CooperationMetrics {
  since: string;
  until: string;
  /** New alerts (first versions) per day, by the originator's region and notice type. */
  alertsOverTime: { day: string; region: string; noticeType: string; alerts: number }[];
  /** Delivery → acknowledgement per receiving agency, in seconds. */
  timeToAcknowledge: { agency: string; acknowledged: number; medianSeconds: number; p90Seconds: number; maxSeconds: number }[];
  /** Deliveries and acknowledgements per receiving agency (the ack rate). */
  deliveries: { agency: string; delivered: number; acknowledged: number }[];
  /** Denied recipients by the rule that denied them. */
  denialsByRule: { ruleId: string; denials: number }[];
  /**
   * Requests refused by the services' roles guards, by service, reason and kind (`identified`: one
   * event per refusal; `anonymous-aggregate`: windows of anonymous refusals, summed by their counts).
   */
  refusals: { service: string; reason: string; kind: string; refusals: number }[];
}

export async function cooperationMetrics(pool: pg.Pool, policiesDir: string, since: Date, until: Date): Promise<CooperationMetrics> {
  const range = [since, until];
  const regions = new Map(loadRegistry(join(policiesDir, 'registry.yaml')).agencies.map((a) => [a.code, a.region as string]));
  const submitted = await pool.query<{ day: Date; originator: string | null; notice_type: string | null; n: string }>(
    `SELECT date_trunc('day', occurred_at) AS day, originator, notice_type, count(DISTINCT alert_id) AS n
       FROM ${L} WHERE type = 'SUBMITTED' AND alert_version = 1 AND occurred_at >= $1 AND occurred_at < $2
      GROUP BY 1, 2, 3 ORDER BY 1`,
    range,
  );
  const byKey = new Map<string, { day: string; region: string; noticeType: string; alerts: number }>();
  for (const r of submitted.rows) {
    const region = (r.originator && regions.get(r.originator)) ?? 'UNKNOWN';
    const day = r.day.toISOString().slice(0, 10);
    const k = `${day}|${region}|${r.notice_type ?? 'UNKNOWN'}`;
    const e = byKey.get(k) ?? { day, region, noticeType: r.notice_type ?? 'UNKNOWN', alerts: 0 };
    e.alerts += Number(r.n);
    byKey.set(k, e);
  }
  const ack = await pool.query<{ agency: string; n: string; median: number; p90: number; max: number }>(
    `WITH d AS (SELECT alert_id, alert_version, agency, min(occurred_at) AS at FROM ${L}
                 WHERE type = 'DELIVERED' AND occurred_at >= $1 AND occurred_at < $2 GROUP BY 1, 2, 3),
          a AS (SELECT alert_id, alert_version, agency, min(occurred_at) AS at FROM ${L}
                 WHERE type = 'ACKNOWLEDGED' GROUP BY 1, 2, 3)
     SELECT d.agency, count(*) AS n,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.at - d.at)) AS median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.at - d.at)) AS p90,
            max(extract(epoch FROM a.at - d.at)) AS max
       FROM d JOIN a USING (alert_id, alert_version, agency) GROUP BY d.agency ORDER BY d.agency`,
    range,
  );
  const deliveries = await pool.query<{ agency: string; delivered: string; acknowledged: string }>(
    `SELECT agency, count(*) FILTER (WHERE type = 'DELIVERED') AS delivered, count(*) FILTER (WHERE type = 'ACKNOWLEDGED') AS acknowledged
       FROM ${L} WHERE type IN ('DELIVERED', 'ACKNOWLEDGED') AND agency IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2
      GROUP BY agency ORDER BY agency`,
    range,
  );
  const denials = await pool.query<{ rule_id: string; n: string }>(
    `SELECT d->>'ruleId' AS rule_id, count(*) AS n FROM ${L}, jsonb_array_elements(decisions) AS d
      WHERE type = 'DECIDED' AND d->>'outcome' = 'DENY' AND occurred_at >= $1 AND occurred_at < $2
      GROUP BY 1 ORDER BY 2 DESC, 1`,
    range,
  );
  // details.count is written by the refusal audit (a decimal string); an identified refusal counts one.
  const refusals = await pool.query<{ service: string; reason: string | null; kind: string; n: string }>(
    `SELECT service, reason, details->>'refusal' AS kind,
            sum(CASE WHEN details->>'count' ~ '^[0-9]{1,15}$' THEN (details->>'count')::bigint ELSE 1 END) AS n
       FROM ${L} WHERE type = 'REJECTED' AND details ? 'refusal' AND occurred_at >= $1 AND occurred_at < $2
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    range,
  );
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    alertsOverTime: [...byKey.values()],
    timeToAcknowledge: ack.rows.map((r) => ({
      agency: r.agency,
      acknowledged: Number(r.n),
      medianSeconds: Number(r.median),
      p90Seconds: Number(r.p90),
      maxSeconds: Number(r.max),
    })),
    deliveries: deliveries.rows.map((r) => ({ agency: r.agency, delivered: Number(r.delivered), acknowledged: Number(r.acknowledged) })),
    denialsByRule: denials.rows.map((r) => ({ ruleId: r.rule_id, denials: Number(r.n) })),
    refusals: refusals.rows.map((r) => ({ service: r.service, reason: r.reason ?? '', kind: r.kind, refusals: Number(r.n) })),
  };
}
