import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { alertCodec, type RecipientDecision } from '@backbone/codec';
import { compilePolicy, decide, loadPolicy, loadRegistry } from '@backbone/policy';
import { AUDIT_SCHEMA } from './ledger.schema.js';
import { LEDGER_SELECT, type LedgerRow } from './ledger-row.mapper.js';

const L = `${AUDIT_SCHEMA}.ledger`;
const PAGE = 500;

export interface WhatIfChange {
  alertId: string;
  alertVersion: number;
  agency: string;
  old: { outcome: string; ruleId: string; policyVersion: string | null; redactedGroups: string[] } | null;
  new: { outcome: string; ruleId: string; policyVersion: string; redactedGroups: string[] };
}

export interface WhatIfResult {
  candidatePolicyVersion: string;
  alertsEvaluated: number;
  /** SUBMITTED alerts with no DECIDED event in the ledger: compared against "no decision". */
  undecided: number;
  changes: WhatIfChange[];
}

/** `policy` is a policies directory (its newest version) or a version of `policiesDir`. */
export function resolveCandidate(policy: string, policiesDir: string): { dir: string; version?: string; registryPath: string } {
  const asDir = resolve(policy);
  if (existsSync(asDir) && statSync(asDir).isDirectory()) {
    const own = join(asDir, 'registry.yaml');
    const parent = join(asDir, '..', 'registry.yaml');
    return { dir: asDir, registryPath: existsSync(own) ? own : existsSync(parent) ? parent : join(policiesDir, 'registry.yaml') };
  }
  return { dir: policiesDir, version: policy, registryPath: join(policiesDir, 'registry.yaml') };
}

function sameDecision(a: RecipientDecision | undefined, b: { outcome: string; ruleId: string; redactedGroups: readonly string[] }): boolean {
  return a !== undefined && a.outcome === b.outcome && a.ruleId === b.ruleId && [...a.redactedGroups].sort().join() === [...b.redactedGroups].sort().join();
}

/**
 * Evaluates a candidate policy against past SUBMITTED alerts in a range and lists every
 * (alert, agency) whose outcome, rule or redactions would differ from what was DECIDED then.
 * The candidate is evaluated as of the original decision time, so expiry behaves as it did.
 */
/** The candidate policy could not be found, read or compiled: a 400 for the caller. */
export class CandidatePolicyError extends Error {
  override readonly name = 'CandidatePolicyError';
}

export async function whatIf(pool: pg.Pool, policy: string, policiesDir: string, since: Date, until: Date): Promise<WhatIfResult> {
  let compiled: ReturnType<typeof compilePolicy>;
  try {
    const c = resolveCandidate(policy, policiesDir);
    compiled = compilePolicy(loadRegistry(c.registryPath), loadPolicy(c.dir, c.version));
  } catch (err) {
    // Whatever the caller named (an unknown version, a missing or invalid directory) is their input, not our fault.
    throw new CandidatePolicyError(err instanceof Error ? err.message : String(err));
  }
  const result: WhatIfResult = { candidatePolicyVersion: '', alertsEvaluated: 0, undecided: 0, changes: [] };
  let after = '0';
  for (;;) {
    const page = (
      await pool.query<LedgerRow>(
        `SELECT ${LEDGER_SELECT} FROM ${L} WHERE type = 'SUBMITTED' AND payload IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2 AND seq > $3 ORDER BY seq LIMIT ${PAGE}`,
        [since, until, after],
      )
    ).rows;
    if (page.length === 0) break;
    after = page[page.length - 1]!.seq;
    // Keys come from the decoded payload, not the row's columns, which a publisher may leave empty.
    const alerts = page.map((row) => alertCodec.decode(row.payload!));
    const decided = await latestDecisions(pool, alerts.map((a) => ({ alertId: a.alertId, version: a.version })));
    for (const alert of alerts) {
      const old = decided.get(`${alert.alertId}/${alert.version}`);
      if (!old) result.undecided++;
      const decision = decide(alert, compiled, old?.occurred_at ?? alert.sent);
      result.candidatePolicyVersion = decision.policyVersion;
      result.alertsEvaluated++;
      for (const o of decision.outcomes) {
        const before = old?.decisions.find((d) => d.agency === o.agency);
        if (sameDecision(before, o)) continue;
        result.changes.push({
          alertId: alert.alertId,
          alertVersion: alert.version,
          agency: o.agency,
          old: before ? { outcome: before.outcome, ruleId: before.ruleId, policyVersion: old?.policy_version ?? null, redactedGroups: before.redactedGroups } : null,
          new: { outcome: o.outcome, ruleId: o.ruleId, policyVersion: decision.policyVersion, redactedGroups: [...o.redactedGroups] },
        });
      }
    }
    if (page.length < PAGE) break;
  }
  return result;
}

async function latestDecisions(pool: pg.Pool, keys: { alertId: string; version: number }[]): Promise<Map<string, LedgerRow>> {
  const r = await pool.query<LedgerRow>(
    `SELECT DISTINCT ON (alert_id, alert_version) ${LEDGER_SELECT} FROM ${L}
      WHERE type = 'DECIDED' AND (alert_id, alert_version) IN (SELECT * FROM unnest($1::text[], $2::int[]))
      ORDER BY alert_id, alert_version, seq DESC`,
    [keys.map((k) => k.alertId), keys.map((k) => k.version)],
  );
  return new Map(r.rows.map((row) => [`${row.alert_id}/${row.alert_version}`, row]));
}
