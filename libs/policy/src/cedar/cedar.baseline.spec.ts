import { describe, expect, it } from '@jest/globals';
import * as fc from 'fast-check';
import type { Alert } from '@backbone/codec';
import { sampleAlert, sampleFullAlert, sampleSubject } from '@backbone/codec/testing';
import { loadPolicy } from '../policy-document.loader.js';
import { loadRegistry } from '../registry.loader.js';
import { compilePolicy, type CompiledPolicy } from '../policy.compiler.js';
import { decide } from '../policy.engine.js';
import { PROPERTY_NOW, alertArb, policyArb, registryArb } from '../testing/policy.arbitraries.js';
import { FIXTURE_NOW, fixturePolicy, fixtureRegistry } from '../testing/policy.fixtures.js';
import { cedarBaseline } from './index.js';

// Cedar has no HOLD and no obligations: the engine's HOLD, ALLOW and ALLOW_WITH_OBLIGATIONS
// are all "allow" to Cedar. Everything the engine denies, Cedar must deny with the same rule.
function expectAgreement(compiled: CompiledPolicy, alert: Alert, now: Date): void {
  const engine = decide(alert, compiled, now).outcomes;
  const cedar = cedarBaseline(compiled).decideAll(alert, now);
  expect(cedar.map((pair) => `${pair.agency} ${pair.decision} ${pair.ruleId}`)).toEqual(
    engine.map((o) => `${o.agency} ${o.outcome === 'DENY' ? 'deny' : 'allow'} ${o.outcome === 'HOLD' ? alertAllowRule(alert) : o.ruleId}`),
  );
}

const alertAllowRule = (alert: Alert) => `addressing.${alert.addressing.mode.toLowerCase()}`;

const SAMPLES: [string, Alert][] = [
  ['the codec sample', sampleAlert()],
  ['the full sample (exercise, explicit, consent, capital)', sampleFullAlert()],
  ['TLP:RED explicit', sampleAlert({ tlp: 'RED', addressing: { mode: 'EXPLICIT', regions: [], agencies: ['DE-NCB', 'US-NCB'] } })],
  [
    'regions with never-to',
    sampleAlert({ addressing: { mode: 'REGIONS', regions: ['AMERICAS', 'EUROPE'], agencies: [] }, neverTo: ['DE-NCB'] }),
  ],
  ['empty explicit list', sampleAlert({ addressing: { mode: 'EXPLICIT', regions: [], agencies: [] } })],
  ['releasable to unknown only', sampleAlert({ releasableTo: ['XX-NCB'] })],
  ['expired', sampleAlert({ expires: new Date('2020-01-01T00:00:00Z') })],
  ['draft', sampleAlert({ status: 'Draft' })],
  ['unknown sender', sampleAlert({ sender: 'XX-NCB' })],
  ['unknown exercise', sampleAlert({ status: 'Test', exerciseId: 'EX-NOPE' })],
  ['exercise', sampleAlert({ status: 'Exercise', exerciseId: 'EX-1', consentedThirdCountries: ['MA-NCB'] })],
  ['capital offence', sampleAlert({ capitalOffence: true, subject: sampleSubject() })],
  ['purpose mismatch', sampleAlert({ noticeType: 'RED', purposes: ['HUMANITARIAN'] })],
  ['agency purpose limit', sampleAlert({ sender: 'GB-NCB', noticeType: 'DIFFUSION', purposes: ['CRIMINAL_INVESTIGATION'] })],
  ['held diffusion', sampleAlert({ noticeType: 'DIFFUSION', purposes: ['ARREST_EXTRADITION'] })],
  [
    'private scope, sent before UA joined',
    sampleAlert({
      sender: 'GB-NCB',
      scope: 'Private',
      sent: new Date('2026-01-01T00:00:00Z'),
      addressing: { mode: 'EXPLICIT', regions: [], agencies: ['UA-NCB', 'US-NCB'] },
    }),
  ],
];

describe('cedarBaseline agrees with the engine on allow/deny and the deny rule', () => {
  const fixture = compilePolicy(fixtureRegistry(), fixturePolicy());
  it.each(SAMPLES)('fixture policy: %s', (_name, alert) => expectAgreement(fixture, alert, FIXTURE_NOW));

  const shipped = compilePolicy(loadRegistry('policies/registry.yaml'), loadPolicy('policies'));
  it.each(SAMPLES)('shipped policy: %s', (_name, alert) => expectAgreement(shipped, alert, FIXTURE_NOW));

  it('on random registries, policies and alerts', () => {
    fc.assert(
      fc.property(registryArb, policyArb, alertArb, (registry, policy, alert) =>
        expectAgreement(compilePolicy(registry, policy), alert, PROPERTY_NOW),
      ),
      { numRuns: 150 },
    );
  });

  it('decides a single pair', () => {
    const baseline = cedarBaseline(fixture);
    expect(baseline.decidePair(sampleAlert(), 'BR-NCB', FIXTURE_NOW)).toMatchObject({
      agency: 'BR-NCB',
      decision: 'deny',
      ruleId: 'transfer.no-basis',
    });
    expect(baseline.decidePair(sampleAlert(), 'DE-NCB', FIXTURE_NOW)).toMatchObject({ decision: 'allow', reasons: ['addressing'] });
    expect(() => baseline.decidePair(sampleAlert(), 'XX-NCB', FIXTURE_NOW)).toThrow(/not in the registry/);
    expect(baseline.policyText).toContain('forbid (principal, action == Action::"receive", resource)');
  });
});
