import type { StoredDecision } from './gate.repository.js';

export interface VersionExplanation {
  version: number;
  msgType: string;
  policyVersion: string;
  decidedAt: string;
  outcome: string;
  ruleId: string;
  redactedGroups: string[];
  executionFlags: string[];
  /** Delivered although policy said DENY/HOLD, because the agency had an earlier version. */
  recalled: boolean;
  delivered: boolean;
}

export interface DecisionExplanation {
  alertId: string;
  sender: string;
  headline: string | null;
  agency: string | null;
  /** Agencies that have received some version (what recall uses). */
  recipients: { agency: string; firstVersion: number; lastVersion: number }[];
  /** Per version, newest first: this agency's outcome, or every agency's when none was asked for. */
  versions: { version: number; msgType: string; policyVersion: string; decidedAt: string; outcomes: VersionExplanation[] }[];
}

/** Turns stored decisions into the answer to "what did agency X get for alert Y, and why". */
export function explainDecision(
  alertId: string,
  decisions: readonly StoredDecision[],
  recipients: { agency: string; firstVersion: number; lastVersion: number }[],
  agency: string | null,
  headlineOf: (alert: Buffer) => string,
): DecisionExplanation {
  const newest = decisions[0];
  let headline: string | null;
  try {
    headline = newest ? headlineOf(newest.alert) : null;
  } catch {
    headline = null; // A stored alert written under a schema this build no longer reads; the rest still explains.
  }
  return {
    alertId,
    sender: newest?.sender ?? '',
    headline,
    agency,
    recipients: agency === null ? recipients : recipients.filter((r) => r.agency === agency),
    versions: decisions.map((d) => ({
      version: d.version,
      msgType: d.msgType,
      policyVersion: d.policyVersion,
      decidedAt: d.decidedAt.toISOString(),
      outcomes: d.outcomes
        .filter((o) => agency === null || o.agency === agency)
        .map((o) => {
          const recalled = d.recalled.includes(o.agency);
          return {
            version: d.version,
            msgType: d.msgType,
            policyVersion: d.policyVersion,
            decidedAt: d.decidedAt.toISOString(),
            outcome: o.outcome,
            ruleId: o.ruleId,
            redactedGroups: [...o.redactedGroups],
            executionFlags: [...o.executionFlags],
            recalled,
            delivered: recalled || o.outcome === 'ALLOW' || o.outcome === 'ALLOW_WITH_OBLIGATIONS',
          };
        }),
    })),
  };
}
