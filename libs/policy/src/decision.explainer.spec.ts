import { describe, expect, it } from '@jest/globals';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { explain } from './decision.explainer.js';
import { compilePolicy } from './policy.compiler.js';
import { decide } from './policy.engine.js';
import { RULE_IDS } from './rule-ids.constants.js';
import { FIXTURE_NOW, fixturePolicy, fixtureRegistry } from './testing/policy.fixtures.js';

const compiled = compilePolicy(fixtureRegistry(), fixturePolicy());

describe('explain', () => {
  it('gives the deciding deny first, then every other deny that fired', () => {
    const alert = sampleAlert({
      tlp: 'RED',
      neverTo: ['BR-NCB'],
      capitalOffence: true,
      addressing: { mode: 'REGIONS', regions: ['AMERICAS'], agencies: [] },
    });
    const explanation = explain(alert, 'BR-NCB', compiled, FIXTURE_NOW);
    expect(explanation.outcome).toMatchObject({ outcome: 'DENY', ruleId: RULE_IDS.neverTo });
    expect(explanation.fired.map((rule) => rule.ruleId)).toEqual([RULE_IDS.neverTo, RULE_IDS.tlpRedNotAddressed, RULE_IDS.transferNoBasis]);
    expect(explanation.fired.find((rule) => rule.ruleId === RULE_IDS.transferNoBasis)?.detail).toContain('policy rule transfer');
    expect(explanation.text).toContain('Outcome: DENY, decided by deny.never-to');
    expect(explanation.text).toContain('Policy 2026-11-01, registry fixture');
  });

  it('lists the allow and every obligation with the policy rule behind it', () => {
    const alert = sampleAlert({ handlingCode: 'H2', doNotActOn: ['US'], capitalOffence: true, subject: sampleSubject() });
    const explanation = explain(alert, 'US-NCB', compiled, FIXTURE_NOW);
    expect(explanation.outcome).toMatchObject({
      outcome: 'ALLOW_WITH_OBLIGATIONS',
      redactedGroups: ['BIOMETRICS'],
      executionFlags: ['DO_NOT_ACT_ON_TERRITORY', 'DEATH_PENALTY_ASSURANCE'],
      noReshare: true,
    });
    expect(explanation.fired.map((rule) => [rule.ruleId, rule.policyRule])).toEqual([
      [RULE_IDS.addressingAll, undefined],
      [RULE_IDS.redaction, 'biometrics'],
      [RULE_IDS.handlingNoReshare, undefined],
      [RULE_IDS.executionFlag, 'dnao'],
      [RULE_IDS.executionFlag, 'assured'],
    ]);
    expect(explanation.text).toContain(
      'Redacted: BIOMETRICS; flags: DO_NOT_ACT_ON_TERRITORY, DEATH_PENALTY_ASSURANCE; re-sharing: forbidden',
    );
  });

  it('explains victim protection and review holds', () => {
    const alert = sampleAlert({ noticeType: 'DIFFUSION', purposes: ['ARREST_EXTRADITION'], subject: sampleSubject() });
    const explanation = explain(alert, 'DE-NCB', compiled, FIXTURE_NOW);
    expect(explanation.outcome).toMatchObject({ outcome: 'HOLD', ruleId: RULE_IDS.reviewHold, redactedGroups: ['VICTIM_DETAILS'] });
    expect(explanation.fired.map((rule) => rule.ruleId)).toEqual([
      RULE_IDS.reviewHold,
      RULE_IDS.addressingAll,
      RULE_IDS.victimProtection,
      RULE_IDS.executionFlag,
    ]);
  });

  it('explains alert-wide denials without per-recipient noise', () => {
    const explanation = explain(
      sampleAlert({ status: 'Exercise', exerciseId: 'EX-NOPE', expires: FIXTURE_NOW }),
      'DE-NCB',
      compiled,
      FIXTURE_NOW,
    );
    expect(explanation.fired.map((rule) => rule.ruleId)).toEqual([RULE_IDS.expired, RULE_IDS.exerciseUnknown]);
    expect(explanation.fired[1]?.detail).toContain('exercise EX-NOPE is not defined');
  });

  it('agrees with decide for every agency', () => {
    const alert = sampleAlert({
      subject: sampleSubject(),
      doNotActOn: ['GB'],
      capitalOffence: true,
      releasableTo: ['DE-NCB', 'US-NCB', 'JP-NCB', 'GB-NCB'],
    });
    const decision = decide(alert, compiled, FIXTURE_NOW);
    for (const outcome of decision.outcomes) expect(explain(alert, outcome.agency, compiled, FIXTURE_NOW).outcome).toEqual(outcome);
  });

  it('refuses an agency that is not in the registry', () => {
    expect(() => explain(sampleAlert(), 'XX-NCB', compiled, FIXTURE_NOW)).toThrow(/XX-NCB is not in registry fixture/);
  });
});
