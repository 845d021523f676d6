import { describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import { compilePolicy } from './policy.compiler.js';
import { decide } from './policy.engine.js';
import { explain } from './decision.explainer.js';
import { applyObligations } from './obligations.redactor.js';
import { RULE_IDS } from './rule-ids.constants.js';
import { oracleDecide } from './testing/naive.oracle.js';
import { PROPERTY_NOW, alertArb, policyArb, registryArb } from './testing/policy.arbitraries.js';

const sorted = (values: readonly string[]) => [...values].sort();

describe('engine against the naive oracle', () => {
  it('agrees on outcome, rule id, redactions, flags and noReshare for every agency', () => {
    fc.assert(
      fc.property(registryArb, policyArb, alertArb, (registry, policy, alert) => {
        const engine = decide(alert, compilePolicy(registry, policy), PROPERTY_NOW).outcomes;
        const oracle = oracleDecide(alert, registry, policy, PROPERTY_NOW);
        expect(engine.map((o) => o.agency)).toEqual(registry.agencies.map((agency) => agency.code));
        engine.forEach((got, i) => {
          const want = oracle[i]!;
          expect({ agency: got.agency, outcome: got.outcome, ruleId: got.ruleId }).toEqual({
            agency: want.agency,
            outcome: want.outcome,
            ruleId: want.ruleId,
          });
          expect(sorted(got.redactedGroups)).toEqual(sorted(want.redactedGroups));
          expect(sorted(got.executionFlags)).toEqual(sorted(want.executionFlags));
          expect(got.noReshare).toBe(want.noReshare);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('never delivers to an agency the alert did not reach through its own lists', () => {
    fc.assert(
      fc.property(registryArb, policyArb, alertArb, (registry, policy, alert) => {
        for (const outcome of decide(alert, compilePolicy(registry, policy), PROPERTY_NOW).outcomes) {
          if (outcome.outcome === 'DENY') continue;
          expect(outcome.agency).not.toBe(alert.sender);
          expect(alert.neverTo).not.toContain(outcome.agency);
          if (alert.releasableTo.length > 0) expect(alert.releasableTo).toContain(outcome.agency);
          if (alert.addressing.mode === 'EXPLICIT' || alert.tlp === 'RED') expect(alert.addressing.agencies).toContain(outcome.agency);
          expect(['Actual', 'Exercise', 'Test']).toContain(alert.status);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('applyObligations removes exactly the redacted groups and leaves the input alone', () => {
    fc.assert(
      fc.property(registryArb, policyArb, alertArb, (registry, policy, alert) => {
        const before = JSON.stringify(alert);
        for (const outcome of decide(alert, compilePolicy(registry, policy), PROPERTY_NOW).outcomes) {
          if (outcome.outcome === 'DENY') continue;
          const copy = applyObligations(alert, outcome);
          const redacted = new Set(outcome.redactedGroups);
          expect(copy.subject?.biometrics ?? null).toEqual(redacted.has('BIOMETRICS') ? null : (alert.subject?.biometrics ?? null));
          expect(copy.subject?.identityDocuments ?? []).toEqual(
            redacted.has('IDENTITY_DOCUMENTS') ? [] : (alert.subject?.identityDocuments ?? []),
          );
          expect(copy.subject?.victim ?? null).toEqual(redacted.has('VICTIM_DETAILS') ? null : (alert.subject?.victim ?? null));
          expect(copy.neverTo).toEqual([]);
          expect(copy.consentedThirdCountries).toEqual([]);
          expect({ ...copy, subject: null, neverTo: [], consentedThirdCountries: [] }).toEqual({
            ...alert,
            subject: null,
            neverTo: [],
            consentedThirdCountries: [],
          });
        }
        expect(JSON.stringify(alert)).toBe(before);
      }),
      { numRuns: 500 },
    );
  });

  it('explain always names the rule decide used, and it fired first', () => {
    const deciding = new Set<string>(Object.values(RULE_IDS));
    fc.assert(
      fc.property(registryArb, policyArb, alertArb, (registry, policy, alert) => {
        const compiled = compilePolicy(registry, policy);
        const agency = registry.agencies[0]!.code;
        const explanation = explain(alert, agency, compiled, PROPERTY_NOW);
        expect(explanation.outcome).toEqual(decide(alert, compiled, PROPERTY_NOW).outcomes[0]);
        expect(deciding.has(explanation.outcome.ruleId)).toBe(true);
        expect(explanation.fired[0]?.ruleId).toBe(explanation.outcome.ruleId);
      }),
      { numRuns: 500 },
    );
  });
});
