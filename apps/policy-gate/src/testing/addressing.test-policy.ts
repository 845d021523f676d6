import type { Alert, FieldGroup } from '@backbone/codec';
import { applyObligations } from '@backbone/policy';
import type { GateDecision, GateOutcome, GatePolicy } from '../gate-policy.port.js';

/**
 * A small deterministic policy for tests of the gate's plumbing (not of the engine): agencies
 * addressed (ALL or EXPLICIT) are allowed, neverTo denies, PURPLE notices are held, and the
 * agencies in `redactBiometricsFor` get BIOMETRICS removed, those in `deny` are always denied. `throwForHeadline` makes decide()
 * fail for one headline, to test policy errors.
 */
export function addressingTestPolicy(
  agencies: readonly string[],
  opts: { version?: string; redactBiometricsFor?: readonly string[]; throwForHeadline?: string; deny?: readonly string[] } = {},
): GatePolicy {
  const version = opts.version ?? 'test-1';
  return {
    policyVersion: version,
    decide(alert: Alert): GateDecision {
      if (opts.throwForHeadline !== undefined && alert.headline === opts.throwForHeadline) throw new Error('policy exploded');
      const outcomes: GateOutcome[] = agencies.map((agency) => {
        const addressed = alert.addressing.mode === 'ALL' || alert.addressing.agencies.includes(agency);
        const deny = (ruleId: string): GateOutcome => ({
          agency,
          outcome: 'DENY',
          ruleId,
          redactedGroups: [],
          executionFlags: [],
          noReshare: false,
        });
        if (agency === alert.sender) return deny('self.originator');
        if (alert.neverTo.includes(agency)) return deny('deny.never-to');
        if (opts.deny?.includes(agency)) return deny('test.policy-denies');
        if (!addressed) return deny('addressing.not-addressed');
        if (alert.noticeType === 'PURPLE')
          return { agency, outcome: 'HOLD', ruleId: 'review.hold', redactedGroups: [], executionFlags: [], noReshare: false };
        const groups: FieldGroup[] = opts.redactBiometricsFor?.includes(agency) ? ['BIOMETRICS'] : [];
        return {
          agency,
          outcome: groups.length > 0 ? 'ALLOW_WITH_OBLIGATIONS' : 'ALLOW',
          ruleId: alert.addressing.mode === 'ALL' ? 'addressing.all' : 'addressing.explicit',
          redactedGroups: groups,
          executionFlags: [],
          noReshare: false,
        };
      });
      return { policyVersion: version, outcomes };
    },
    // The engine's own obligations, as the real adapter binds them: the gate's copies must
    // look the same whichever policy decides.
    redact: (alert, outcome) =>
      applyObligations(alert, { agency: outcome.agency, outcome: outcome.outcome, redactedGroups: [...outcome.redactedGroups] }),
  };
}
