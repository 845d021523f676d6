import { describe, expect, it } from '@jest/globals';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { applyObligations } from './obligations.redactor.js';

const allowed = (redactedGroups: ('BIOMETRICS' | 'IDENTITY_DOCUMENTS' | 'VICTIM_DETAILS')[]) => ({
  agency: 'DE-NCB',
  outcome: 'ALLOW_WITH_OBLIGATIONS' as const,
  redactedGroups,
});

describe('applyObligations', () => {
  it('removes exactly the redacted groups', () => {
    const alert = sampleAlert({ subject: sampleSubject() });
    const copy = applyObligations(alert, allowed(['BIOMETRICS', 'VICTIM_DETAILS']));
    expect(copy.subject).toEqual({ ...sampleSubject(), biometrics: null, victim: null });
    expect(applyObligations(alert, allowed(['IDENTITY_DOCUMENTS'])).subject?.identityDocuments).toEqual([]);
    expect(applyObligations(alert, allowed([]))).toEqual(alert);
  });

  it('never tells a recipient whom the originator excluded or asked consent for', () => {
    const alert = sampleAlert({ neverTo: ['GB-NCB', 'US-NCB'], consentedThirdCountries: ['AU-NCB'], releasableTo: ['DE-NCB', 'FR-NCB'] });
    const copy = applyObligations(alert, allowed([]));
    expect(copy.neverTo).toEqual([]);
    expect(copy.consentedThirdCountries).toEqual([]);
    expect(copy.releasableTo).toEqual(['DE-NCB', 'FR-NCB']);
    expect(alert.neverTo).toEqual(['GB-NCB', 'US-NCB']);
  });

  it('never mutates the input and shares nothing with it', () => {
    const alert = sampleAlert({ subject: sampleSubject(), neverTo: ['GB-NCB'] });
    const before = structuredClone(alert);
    const copy = applyObligations(alert, allowed(['BIOMETRICS', 'IDENTITY_DOCUMENTS', 'VICTIM_DETAILS']));
    expect(alert).toEqual(before);
    copy.releasableTo.push('X');
    copy.addressing.agencies.push('X');
    expect(alert.neverTo).toEqual(['GB-NCB']);
    expect(alert.releasableTo).toEqual([]);
    expect(alert.addressing.agencies).toEqual([]);
    expect(copy.sent).toBeInstanceOf(Date);
    expect(copy.sent).not.toBe(alert.sent);
  });

  it('copies alerts without a subject', () => {
    expect(applyObligations(sampleAlert(), allowed(['BIOMETRICS'])).subject).toBeNull();
  });

  it('refuses to produce a copy for a denied recipient', () => {
    expect(() => applyObligations(sampleAlert(), { agency: 'BR-NCB', outcome: 'DENY', redactedGroups: [] })).toThrow(/BR-NCB is denied/);
  });
});
