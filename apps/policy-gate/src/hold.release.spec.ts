import { describe, expect, it } from '@jest/globals';
import { alertCodec, auditEventCodec, deliveryCodec, type Alert } from '@backbone/codec';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { topicNames } from '@backbone/kafka';
import { gateCodecs } from './gate.codecs.js';
import type { GateOutcome } from './gate-policy.port.js';
import {
  HoldExpiredError,
  HoldSupersededError,
  planRelease,
  RELEASE_RULE_ID,
  releaseObligations,
  type ReleaseInput,
} from './hold.release.js';
import { parseReleaseBody } from './holds.controller.js';
import { addressingTestPolicy } from './testing/addressing.test-policy.js';

const AGENCIES = ['FR-NCB', 'DE-NCB', 'NL-NCB', 'US-NCB'];
const topics = topicNames('t.');
const ID = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';
const NOW = new Date('2026-11-20T10:00:00Z');
const held = (agency: string): { agency: string; ruleId: string } => ({ agency, ruleId: 'review.hold' });
const outcome = (agency: string, o: Partial<GateOutcome> = {}): GateOutcome => ({
  agency,
  outcome: 'HOLD',
  ruleId: 'review.hold',
  redactedGroups: [],
  executionFlags: [],
  noReshare: false,
  ...o,
});

function input(alert: Alert, o: Partial<ReleaseInput> = {}): ReleaseInput {
  return {
    alert,
    holds: [held('DE-NCB'), held('NL-NCB'), held('US-NCB')],
    storedOutcomes: [outcome('US-NCB', { redactedGroups: ['VICTIM_DETAILS'], noReshare: true })],
    requested: null,
    policy: addressingTestPolicy(AGENCIES, { redactBiometricsFor: ['US-NCB'], deny: ['NL-NCB'] }),
    now: NOW,
    releasedBy: 'rev.one',
    service: 'policy-gate',
    topics,
    codecs: gateCodecs,
    ...o,
  };
}

describe('planRelease', () => {
  const alert = sampleAlert({ alertId: ID, noticeType: 'PURPLE', subject: sampleSubject() });

  it('releases every pending hold the policy still admits, under the stored and current obligations, with one DECIDED event', () => {
    const plan = planRelease(input(alert));
    expect(plan.released).toEqual(['DE-NCB', 'US-NCB']);
    expect(plan.denied).toEqual([{ agency: 'NL-NCB', ruleId: 'test.policy-denies' }]);
    expect(plan.recipients.map((r) => [r.agency, r.version, r.recall])).toEqual([
      ['DE-NCB', 1, false],
      ['US-NCB', 1, false],
    ]);
    const [deTopic, deMsg] = plan.messages[0]!;
    expect(deTopic).toBe(topics.feedFor('DE-NCB'));
    const de = deliveryCodec.decode(deMsg.value);
    expect(de).toMatchObject({ recipient: 'DE-NCB', ruleId: RELEASE_RULE_ID, outcome: 'ALLOW', redactedGroups: [], recall: false });
    const us = deliveryCodec.decode(plan.messages[1]![1].value);
    expect(us).toMatchObject({
      recipient: 'US-NCB',
      outcome: 'ALLOW_WITH_OBLIGATIONS',
      redactedGroups: ['VICTIM_DETAILS'],
      noReshare: true,
    });
    // The test policy's HOLD carries no groups; the stored outcome's VICTIM_DETAILS is kept.
    expect(alertCodec.decode(us.alert).subject?.victim).toBeNull();
    expect(alertCodec.decode(de.alert).subject?.victim).not.toBeNull();
    const [auditTopic, auditMsg] = plan.messages[2]!;
    expect(auditTopic).toBe(topics.audit);
    const event = auditEventCodec.decode(auditMsg.value);
    expect(event).toMatchObject({ type: 'DECIDED', actor: 'rev.one', alertId: ID, alertVersion: 1 });
    expect(event.decisions.map((d) => [d.agency, d.outcome, d.ruleId])).toEqual([
      ['DE-NCB', 'ALLOW', RELEASE_RULE_ID],
      ['US-NCB', 'ALLOW_WITH_OBLIGATIONS', RELEASE_RULE_ID],
    ]);
    expect(event.details).toMatchObject({ releasedBy: 'rev.one', heldRule: 'review.hold', notReleased: 'NL-NCB:test.policy-denies' });
  });

  it('releases only the requested agencies and reports those without a pending hold', () => {
    const plan = planRelease(input(alert, { requested: ['DE-NCB', 'FR-NCB'] }));
    expect(plan.released).toEqual(['DE-NCB']);
    expect(plan.notPending).toEqual(['FR-NCB']);
  });

  it('writes nothing when nothing is pending (a repeated release)', () => {
    const plan = planRelease(input(alert, { holds: [] }));
    expect(plan.released).toEqual([]);
    expect(plan.messages).toEqual([]);
  });

  it('refuses an expired alert', () => {
    expect(() => planRelease(input({ ...alert, expires: new Date(NOW.getTime() - 1) }))).toThrow(HoldExpiredError);
  });

  it('refuses a held version superseded by a newer decided Update or Cancel, and releases one that is still the newest', () => {
    expect(() => planRelease(input(alert, { newestDecidedVersion: 2 }))).toThrow(HoldSupersededError);
    expect(() => planRelease(input(alert, { newestDecidedVersion: 2 }))).toThrow(
      expect.objectContaining({ alertId: ID, version: 1, newerVersion: 2 }) as unknown as Error,
    );
    expect(planRelease(input(alert, { newestDecidedVersion: 1 })).released).toEqual(['DE-NCB', 'US-NCB']);
  });

  it('takes the stricter of stored and current obligations', () => {
    const o = releaseObligations(
      outcome('DE-NCB', { redactedGroups: ['VICTIM_DETAILS'], executionFlags: ['A'] }),
      outcome('DE-NCB', { redactedGroups: ['BIOMETRICS'], executionFlags: ['B'] }),
    );
    expect(o).toMatchObject({
      outcome: 'ALLOW_WITH_OBLIGATIONS',
      ruleId: RELEASE_RULE_ID,
      redactedGroups: ['BIOMETRICS', 'VICTIM_DETAILS'],
      executionFlags: ['A', 'B'],
    });
    expect(releaseObligations(undefined, outcome('DE-NCB')).outcome).toBe('ALLOW');
  });
});

describe('parseReleaseBody', () => {
  it('accepts an empty body, agencies and a version; refuses anything else with a problem', () => {
    expect(parseReleaseBody(undefined)).toEqual({});
    expect(parseReleaseBody({ agencies: ['DE-NCB'], version: 2 })).toEqual({ agencies: ['DE-NCB'], version: 2 });
    for (const bad of [{ agencies: [] }, { agencies: 'DE-NCB' }, { version: 0 }, { other: 1 }, []]) {
      expect(() => parseReleaseBody(bad)).toThrow(
        expect.objectContaining({ problem: expect.objectContaining({ status: 400, type: 'invalid-release' }) }) as unknown as Error,
      );
    }
  });
});
