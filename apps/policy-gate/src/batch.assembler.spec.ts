import { describe, expect, it } from '@jest/globals';
import {
  alertCodec,
  auditEventCodec,
  deadLetterCodec,
  deliveryCodec,
  type Alert,
  type AuditEvent,
  type DeadLetter,
  type Delivery,
} from '@backbone/codec';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { topicNames } from '@backbone/kafka';
import { assembleBatch, RECALL_RULE_ID, type AssemblyContext, type DecodedRecord, type PastRecipient } from './batch.assembler.js';
import { gateCodecs } from './gate.codecs.js';
import { addressingTestPolicy } from './testing/addressing.test-policy.js';

const AGENCIES = ['FR-NCB', 'DE-NCB', 'NL-NCB', 'US-NCB'];
const topics = topicNames('t.');
const ID = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';

function ctx(
  past: Record<string, PastRecipient[]> = {},
  policy = addressingTestPolicy(AGENCIES, { redactBiometricsFor: ['US-NCB'] }),
): AssemblyContext {
  return {
    service: 'policy-gate',
    topics,
    policy,
    codecs: gateCodecs,
    now: new Date('2026-11-20T10:00:00Z'),
    pastRecipients: new Map(Object.entries(past)),
  };
}

let offset = 0;
function rec(alert: Alert): DecodedRecord {
  return {
    record: {
      topic: topics.submitted,
      partition: 0,
      offset: String(offset++),
      key: Buffer.from(alert.alertId),
      value: alertCodec.encode(alert),
    },
    alert,
  };
}

function deliveries(messages: Map<string, { value: Buffer }[]>, agency: string): Delivery[] {
  return (messages.get(topics.feedFor(agency)) ?? []).map((m) => deliveryCodec.decode(m.value));
}
function audits(messages: Map<string, { value: Buffer }[]>): AuditEvent[] {
  return (messages.get(topics.audit) ?? []).map((m) => auditEventCodec.decode(m.value));
}

describe('assembleBatch', () => {
  it('delivers to exactly the allowed agencies, redacted per recipient, with one DECIDED event listing everyone', () => {
    const alert = sampleAlert({ alertId: ID, subject: sampleSubject(), neverTo: ['NL-NCB'] });
    const out = assembleBatch([rec(alert)], ctx());
    expect([...out.messages.keys()].sort()).toEqual([topics.audit, topics.feedFor('DE-NCB'), topics.feedFor('US-NCB')].sort());
    const de = deliveries(out.messages, 'DE-NCB')[0]!;
    expect(de).toMatchObject({ recipient: 'DE-NCB', outcome: 'ALLOW', recall: false, ruleId: 'addressing.all', policyVersion: 'test-1' });
    expect(alertCodec.decode(de.alert).subject?.biometrics).not.toBeNull();
    const us = deliveries(out.messages, 'US-NCB')[0]!;
    expect(us).toMatchObject({ outcome: 'ALLOW_WITH_OBLIGATIONS', redactedGroups: ['BIOMETRICS'] });
    expect(alertCodec.decode(us.alert).subject?.biometrics).toBeNull();
    const [decided] = audits(out.messages);
    expect(decided).toMatchObject({ type: 'DECIDED', alertId: ID, alertVersion: 1, policyVersion: 'test-1' });
    expect(decided!.decisions.map((d) => [d.agency, d.outcome, d.ruleId])).toEqual([
      ['FR-NCB', 'DENY', 'self.originator'],
      ['DE-NCB', 'ALLOW', 'addressing.all'],
      ['NL-NCB', 'DENY', 'deny.never-to'],
      ['US-NCB', 'ALLOW_WITH_OBLIGATIONS', 'addressing.all'],
    ]);
    expect(out.recipients.map((r) => r.agency).sort()).toEqual(['DE-NCB', 'US-NCB']);
    expect(out.decisions).toHaveLength(1);
    expect(out.stats).toEqual({ alerts: 1, deliveries: 2, recalls: 0, holds: 0, deadLetters: 0 });
  });

  it('recalls an Update to past recipients the new addressing excludes, with every protected group removed', () => {
    const update = sampleAlert({
      alertId: ID,
      version: 2,
      msgType: 'Update',
      references: [{ alertId: ID, version: 1 }],
      addressing: { mode: 'EXPLICIT', regions: [], agencies: ['DE-NCB'] },
      subject: sampleSubject(),
    });
    const out = assembleBatch(
      [rec(update)],
      ctx({
        [ID]: [
          { agency: 'DE-NCB', firstVersion: 1 },
          { agency: 'NL-NCB', firstVersion: 1 },
        ],
      }),
    );
    expect(deliveries(out.messages, 'DE-NCB')[0]).toMatchObject({ recall: false, ruleId: 'addressing.explicit', msgType: 'Update' });
    const nl = deliveries(out.messages, 'NL-NCB')[0]!;
    expect(nl).toMatchObject({ recall: true, ruleId: RECALL_RULE_ID, outcome: 'ALLOW_WITH_OBLIGATIONS', noReshare: true, alertVersion: 2 });
    expect(nl.redactedGroups.sort()).toEqual(['BIOMETRICS', 'IDENTITY_DOCUMENTS', 'VICTIM_DETAILS']);
    const subject = alertCodec.decode(nl.alert).subject!;
    expect([subject.biometrics, subject.victim, subject.identityDocuments]).toEqual([null, null, []]);
    expect(deliveries(out.messages, 'US-NCB')).toEqual([]);
    expect(audits(out.messages)[0]!.details['recalled']).toBe('NL-NCB');
    expect(out.stats.recalls).toBe(1);
  });

  it("never leaks the originator's neverTo or consentedThirdCountries, on a recall copy or a regular one", () => {
    const update = sampleAlert({
      alertId: ID,
      version: 2,
      msgType: 'Update',
      references: [{ alertId: ID, version: 1 }],
      addressing: { mode: 'EXPLICIT', regions: [], agencies: ['DE-NCB'] },
      neverTo: ['US-NCB'],
      consentedThirdCountries: ['US'],
      subject: sampleSubject(),
    });
    const out = assembleBatch([rec(update)], ctx({ [ID]: [{ agency: 'NL-NCB', firstVersion: 1 }] }));
    const nl = deliveries(out.messages, 'NL-NCB')[0]!;
    expect(nl.recall).toBe(true);
    const recalled = alertCodec.decode(nl.alert);
    expect([recalled.neverTo, recalled.consentedThirdCountries]).toEqual([[], []]);
    const de = alertCodec.decode(deliveries(out.messages, 'DE-NCB')[0]!.alert);
    expect([de.neverTo, de.consentedThirdCountries]).toEqual([[], []]);
  });

  it('recalls a Cancel that follows its Alert in the same batch', () => {
    const original = sampleAlert({ alertId: ID });
    const cancel = sampleAlert({
      alertId: ID,
      version: 2,
      msgType: 'Cancel',
      references: [{ alertId: ID, version: 1 }],
      neverTo: ['DE-NCB', 'NL-NCB', 'US-NCB'],
    });
    const out = assembleBatch([rec(original), rec(cancel)], ctx());
    for (const agency of ['DE-NCB', 'NL-NCB', 'US-NCB']) {
      expect(deliveries(out.messages, agency).map((d) => [d.alertVersion, d.msgType, d.recall])).toEqual([
        [1, 'Alert', false],
        [2, 'Cancel', true],
      ]);
    }
  });

  it('does not recall to an agency whose only delivery was this same version (a redelivered batch)', () => {
    const update = sampleAlert({
      alertId: ID,
      version: 2,
      msgType: 'Update',
      references: [{ alertId: ID, version: 1 }],
      neverTo: ['DE-NCB'],
    });
    const out = assembleBatch([rec(update)], ctx({ [ID]: [{ agency: 'DE-NCB', firstVersion: 2 }] }));
    expect(deliveries(out.messages, 'DE-NCB')).toEqual([]);
  });

  it('names a past recipient that has left the registry in the audit instead of writing to its revoked feed', () => {
    const cancel = sampleAlert({ alertId: ID, version: 2, msgType: 'Cancel', references: [{ alertId: ID, version: 1 }] });
    const out = assembleBatch([rec(cancel)], ctx({ [ID]: [{ agency: 'XX-NCB', firstVersion: 1 }] }));
    expect(out.messages.get(topics.feedFor('XX-NCB'))).toBeUndefined();
    expect(audits(out.messages)[0]!.details['recallUndeliverable']).toBe('XX-NCB');
  });

  it('holds review outcomes in the batch instead of dropping them', () => {
    const out = assembleBatch([rec(sampleAlert({ alertId: ID, noticeType: 'PURPLE' }))], ctx());
    expect(out.holds.map((h) => [h.agency, h.ruleId])).toEqual([
      ['DE-NCB', 'review.hold'],
      ['NL-NCB', 'review.hold'],
      ['US-NCB', 'review.hold'],
    ]);
    expect(alertCodec.decode(out.holds[0]!.alert).alertId).toBe(ID);
    expect(out.messages.get(topics.feedFor('DE-NCB'))).toBeUndefined();
    expect(audits(out.messages)[0]!.decisions.filter((d) => d.outcome === 'HOLD')).toHaveLength(3);
  });

  it('dead-letters undecodable, invalid and policy-failing records and keeps going', () => {
    const poison: DecodedRecord = {
      record: { topic: topics.submitted, partition: 2, offset: '41', key: Buffer.from('k'), value: Buffer.from('garbage') },
      failure: { reason: 'UNDECODABLE', detail: 'BAD_MARKER: nope' },
    };
    const invalid = rec(sampleAlert({ alertId: ID, msgType: 'Update', version: 1 }));
    const exploding = rec(sampleAlert({ alertId: ID, headline: 'boom' }));
    const good = rec(sampleAlert({ alertId: ID }));
    const out = assembleBatch([poison, invalid, exploding, good], ctx({}, addressingTestPolicy(AGENCIES, { throwForHeadline: 'boom' })));
    const dead = (out.messages.get(topics.deadLetter) ?? []).map((m): DeadLetter => deadLetterCodec.decode(m.value));
    expect(dead.map((d) => d.reason)).toEqual(['UNDECODABLE', 'INVALID_RECORD', 'POLICY_ERROR']);
    expect(dead[0]).toMatchObject({ sourcePartition: 2, sourceOffset: 41, value: Buffer.from('garbage') });
    expect(audits(out.messages).map((e) => e.type)).toEqual(['DEAD_LETTERED', 'DEAD_LETTERED', 'DEAD_LETTERED', 'DECIDED']);
    expect(deliveries(out.messages, 'DE-NCB')).toHaveLength(1);
    expect(out.stats).toMatchObject({ alerts: 1, deadLetters: 3 });
  });
});
