import { join } from 'node:path';
import type { Alert } from '@backbone/codec';
import { applyObligations, compilePolicy, decide, loadPolicy, loadRegistry } from '@backbone/policy';
import type { GateDecision, GateOutcome, GatePolicy } from './gate-policy.port.js';

/** Binds the pure engine of @backbone/policy to the gate's port; compiled once at start-up. */
export function loadEnginePolicy(policiesDir: string, version?: string | null): GatePolicy {
  const registry = loadRegistry(join(policiesDir, 'registry.yaml'));
  const document = loadPolicy(policiesDir, version ?? undefined);
  const compiled = compilePolicy(registry, document);
  return {
    policyVersion: document.version,
    decide(alert: Alert, now: Date): GateDecision {
      const d = decide(alert, compiled, now);
      return { policyVersion: d.policyVersion, outcomes: d.outcomes };
    },
    redact(alert: Alert, outcome: GateOutcome): Alert {
      return applyObligations(alert, { agency: outcome.agency, outcome: outcome.outcome, redactedGroups: [...outcome.redactedGroups] });
    },
  };
}
