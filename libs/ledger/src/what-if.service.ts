import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { alertCodec, type RecipientDecision } from '@backbone/codec';
import {
  compilePolicy,
  decide,
  loadPolicy,
  loadRegistry,
  parsePolicyDocument,
  POLICY_VERSION,
  PolicyValidationError,
  type CompiledPolicy,
} from '@backbone/policy';
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

/**
 * The candidate policy of a what-if. Over HTTP only `version` (a document already under the
 * policies directory) or `document` (YAML or JSON text, or the parsed object, sent in the body):
 * a caller on the network never names a server path. `dir` is for the local operator CLI only.
 */
export type PolicyCandidate = { version: string } | { document: unknown } | { dir: string };

/** Where the request body names its candidate; `source` is what errors call it (never a path). */
const BODY_SOURCE = 'policyDocument';

/** The CLI's `--policy DIR|VERSION`: a directory on the operator's machine, or a version. */
export function cliCandidate(policy: string): PolicyCandidate {
  const asDir = resolve(policy);
  return existsSync(asDir) && statSync(asDir).isDirectory() ? { dir: asDir } : { version: policy };
}

function loadCandidate(candidate: PolicyCandidate, policiesDir: string): CompiledPolicy {
  if ('document' in candidate) {
    const text = typeof candidate.document === 'string' ? candidate.document : JSON.stringify(candidate.document);
    return compilePolicy(loadRegistry(join(policiesDir, 'registry.yaml')), parsePolicyDocument(text, BODY_SOURCE));
  }
  if ('version' in candidate) {
    if (!POLICY_VERSION.test(candidate.version)) {
      throw new PolicyValidationError([{ file: 'policyVersion', path: '', message: 'must be a policy version YYYY-MM-DD[.N]' }]);
    }
    return compilePolicy(loadRegistry(join(policiesDir, 'registry.yaml')), loadPolicy(policiesDir, candidate.version));
  }
  const own = join(candidate.dir, 'registry.yaml');
  const parent = join(candidate.dir, '..', 'registry.yaml');
  const registryPath = existsSync(own) ? own : existsSync(parent) ? parent : join(policiesDir, 'registry.yaml');
  return compilePolicy(loadRegistry(registryPath), loadPolicy(candidate.dir));
}

function sameDecision(
  a: RecipientDecision | undefined,
  b: { outcome: string; ruleId: string; redactedGroups: readonly string[] },
): boolean {
  return (
    a !== undefined &&
    a.outcome === b.outcome &&
    a.ruleId === b.ruleId &&
    [...a.redactedGroups].sort().join() === [...b.redactedGroups].sort().join()
  );
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

export async function whatIf(
  pool: pg.Pool,
  candidate: PolicyCandidate,
  policiesDir: string,
  since: Date,
  until: Date,
): Promise<WhatIfResult> {
  let compiled: CompiledPolicy;
  try {
    compiled = loadCandidate(candidate, policiesDir);
  } catch (err) {
    // Validation issues keep their structure (the caller shows them without file paths).
    if (err instanceof PolicyValidationError) throw err;
    // Whatever the caller named is their input, not our fault.
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
    const decided = await latestDecisions(
      pool,
      alerts.map((a) => ({ alertId: a.alertId, version: a.version })),
    );
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
          old: before
            ? {
                outcome: before.outcome,
                ruleId: before.ruleId,
                policyVersion: old?.policy_version ?? null,
                redactedGroups: before.redactedGroups,
              }
            : null,
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
