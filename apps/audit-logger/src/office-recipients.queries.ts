import type pg from 'pg';
import type { RecipientDecision } from '@backbone/codec';
import { AUDIT_SCHEMA } from '@backbone/ledger';

const L = `${AUDIT_SCHEMA}.ledger`;

/** Where one recipient agency stands with an alert, as the ledger records it. */
export type RecipientState = 'acknowledged' | 'delivered' | 'pending' | 'held' | 'denied';

export interface RecipientStatus {
  agency: string;
  /** The latest version the gate decided for this agency. */
  version: number | null;
  outcome: string;
  ruleId: string;
  state: RecipientState;
  /** When that version reached the agency (its DELIVERED event). */
  deliveredAt: string | null;
  /** The agency's latest acknowledgement, of whichever version. */
  acknowledgedAt: string | null;
  acknowledgedVersion: number | null;
}

export interface AlertRecipients {
  alertId: string;
  counts: Record<RecipientState, number> & { agencies: number };
  recipients: RecipientStatus[];
}

interface Row {
  alert_id: string;
  type: string;
  alert_version: number | null;
  agency: string | null;
  decisions: RecipientDecision[];
  occurred_at: Date;
}

/**
 * Delivery and acknowledgement status per recipient of the given alerts, for the office that
 * sent them: an alert counts as the office's only when the ledger holds its SUBMITTED event
 * (written by the publisher, the only emitter allowed to state it) naming the office as
 * originator. Alerts of other offices, and ids the ledger does not know, are simply absent.
 */
export async function officeAlertRecipients(pool: pg.Pool, office: string, alertIds: readonly string[]): Promise<AlertRecipients[]> {
  if (alertIds.length === 0) return [];
  const owned = (
    await pool.query<{ alert_id: string }>(
      `SELECT DISTINCT alert_id FROM ${L} WHERE alert_id = ANY($1::text[]) AND type = 'SUBMITTED' AND service = 'notice-publisher' AND originator = $2`,
      [alertIds, office],
    )
  ).rows.map((r) => r.alert_id);
  if (owned.length === 0) return [];
  const rows = (
    await pool.query<Row>(
      `SELECT alert_id, type, alert_version, agency, decisions, occurred_at FROM ${L}
        WHERE alert_id = ANY($1::text[]) AND type IN ('DECIDED', 'DELIVERED', 'ACKNOWLEDGED') ORDER BY seq`,
      [owned],
    )
  ).rows;
  const byAlert = new Map<string, Row[]>(owned.map((id) => [id, []]));
  for (const r of rows) byAlert.get(r.alert_id)?.push(r);
  // In the order asked, so a list shows its rows as it listed them.
  return alertIds.filter((id, i) => byAlert.has(id) && alertIds.indexOf(id) === i).map((id) => summarise(id, byAlert.get(id)!));
}

/** Pure: the ledger rows of one alert (seq order) → each recipient's status and the counts. */
export function summarise(alertId: string, rows: readonly Row[]): AlertRecipients {
  const latest = new Map<string, { version: number | null; d: RecipientDecision }>();
  const delivered = new Map<string, string>();
  const acked = new Map<string, { at: string; version: number | null }>();
  const key = (agency: string, version: number | null): string => `${agency}\u0000${version ?? ''}`;
  for (const r of rows) {
    if (r.type === 'DECIDED') {
      for (const d of r.decisions) {
        const seen = latest.get(d.agency);
        if (!seen || (r.alert_version ?? 0) >= (seen.version ?? 0)) latest.set(d.agency, { version: r.alert_version, d });
      }
    } else if (r.agency !== null && r.type === 'DELIVERED') {
      if (!delivered.has(key(r.agency, r.alert_version))) delivered.set(key(r.agency, r.alert_version), r.occurred_at.toISOString());
    } else if (r.agency !== null && r.type === 'ACKNOWLEDGED') {
      const seen = acked.get(r.agency);
      if (!seen || (r.alert_version ?? 0) >= (seen.version ?? 0))
        acked.set(r.agency, { at: r.occurred_at.toISOString(), version: r.alert_version });
    }
  }
  const counts = { agencies: 0, acknowledged: 0, delivered: 0, pending: 0, held: 0, denied: 0 };
  const recipients: RecipientStatus[] = [];
  for (const [agency, { version, d }] of [...latest].sort(([a], [b]) => a.localeCompare(b))) {
    const deliveredAt = delivered.get(key(agency, version)) ?? null;
    const ack = acked.get(agency) ?? null;
    const state: RecipientState =
      ack !== null && ack.version === version
        ? 'acknowledged'
        : deliveredAt !== null
          ? 'delivered'
          : d.outcome === 'DENY'
            ? 'denied'
            : d.outcome === 'HOLD'
              ? 'held'
              : 'pending';
    counts.agencies++;
    counts[state]++;
    recipients.push({
      agency,
      version,
      outcome: d.outcome,
      ruleId: d.ruleId,
      state,
      deliveredAt,
      acknowledgedAt: ack?.at ?? null,
      acknowledgedVersion: ack?.version ?? null,
    });
  }
  return { alertId, counts, recipients };
}
