import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { alertInput } from '@backbone/testing';
import { agencyDirectoryOf } from '../registry/agency-directory.js';
import { validateAlertContent, validateCancelBody } from './alert-input.validator.js';

const agencies = agencyDirectoryOf([
  { code: 'FR-NCB', country: 'FR', region: 'EUROPE' },
  { code: 'DE-NCB', country: 'DE', region: 'EUROPE' },
  { code: 'US-NCB', country: 'US', region: 'AMERICAS' },
]);
const NOW = new Date('2026-01-01T00:00:00Z');

// The shared fixture without an expiry: the minimal alert the validator must fill with defaults.
const valid = (): Record<string, unknown> => alertInput({ expires: undefined });

function errorsOf(body: unknown): { field: string; code: string }[] {
  const r = validateAlertContent(body, agencies, NOW);
  return r.ok ? [] : r.errors.map(({ field, code }) => ({ field, code }));
}

describe('validateAlertContent', () => {
  it('accepts a minimal alert and fills the Avro defaults', () => {
    const r = validateAlertContent(valid(), agencies, NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.content.releasableTo).toEqual([]);
    expect(r.content.capitalOffence).toBe(false);
    expect(r.content.subject).toBeNull();
    expect(r.content.expires).toBeNull();
    expect(r.content.addressing).toEqual({ mode: 'ALL', regions: [], agencies: [] });
  });

  it('converts expires to a Date', () => {
    const r = validateAlertContent({ ...valid(), expires: '2027-01-01T00:00:00Z' }, agencies, NOW);
    expect(r.ok && r.content.expires?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it.each<[string, (b: Record<string, unknown>) => void, string, string]>([
    ['a missing required field', (b) => delete b['headline'], '/headline', 'required'],
    ['a wrong type', (b) => (b['informationAccuracy'] = '2'), '/informationAccuracy', 'invalid-type'],
    ['an out-of-range grading', (b) => (b['informationAccuracy'] = 5), '/informationAccuracy', 'out-of-range'],
    ['an unknown enum symbol', (b) => (b['tlp'] = 'PURPLE'), '/tlp', 'invalid-enum'],
    ['an unknown field', (b) => (b['colour'] = 'red'), '/colour', 'unknown-field'],
    ['a body sender', (b) => (b['sender'] = 'DE-NCB'), '/sender', 'forbidden-field'],
    ['a body alertId', (b) => (b['alertId'] = '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f'), '/alertId', 'forbidden-field'],
    ['references in the body', (b) => (b['references'] = []), '/references', 'forbidden-field'],
    ['an unknown nested field', (b) => (b['area'] = { description: 'x', planet: 'Mars' }), '/area/planet', 'unknown-field'],
    [
      'an unknown addressed agency',
      (b) => (b['addressing'] = { mode: 'EXPLICIT', agencies: ['XX-NCB'] }),
      '/addressing/agencies/0',
      'unknown-agency',
    ],
    ['an unknown releasableTo agency', (b) => (b['releasableTo'] = ['DE-NCB', 'ZZ-NCB']), '/releasableTo/1', 'unknown-agency'],
    ['an unknown neverTo agency', (b) => (b['neverTo'] = ['ZZ-NCB']), '/neverTo/0', 'unknown-agency'],
    ['a neverTo agency in lower case', (b) => (b['neverTo'] = ['de-ncb']), '/neverTo/0', 'unknown-agency'],
    ['a neverTo agency with surrounding space', (b) => (b['neverTo'] = ['DE-NCB ']), '/neverTo/0', 'unknown-agency'],
    ['a releasableTo agency in mixed case', (b) => (b['releasableTo'] = ['De-Ncb']), '/releasableTo/0', 'unknown-agency'],
    ['a releasableTo agency with a leading tab', (b) => (b['releasableTo'] = ['\tDE-NCB']), '/releasableTo/0', 'unknown-agency'],
    ['an unknown consented agency', (b) => (b['consentedThirdCountries'] = ['ZZ-NCB']), '/consentedThirdCountries/0', 'unknown-agency'],
    ['a non-ISO area country', (b) => (b['area'] = { description: 'x', countries: ['FR', 'XX'] }), '/area/countries/1', 'unknown-country'],
    ['a non-ISO doNotActOn country', (b) => (b['doNotActOn'] = ['fr']), '/doNotActOn/0', 'unknown-country'],
    ['a non-ISO nationality', (b) => (b['subject'] = { nationalities: ['UK'] }), '/subject/nationalities/0', 'unknown-country'],
    [
      'a non-ISO issuing country',
      (b) => (b['subject'] = { identityDocuments: [{ kind: 'PASSPORT', number: '1', issuingCountry: 'EU' }] }),
      '/subject/identityDocuments/0/issuingCountry',
      'unknown-country',
    ],
    ['a past expiry', (b) => (b['expires'] = '2025-12-31T23:59:59Z'), '/expires', 'expired'],
    ['a malformed expiry', (b) => (b['expires'] = 'tomorrow'), '/expires', 'invalid-format'],
    ['a DIFFUSION to ALL', (b) => (b['noticeType'] = 'DIFFUSION'), '/addressing/mode', 'addresses-required'],
    ['a Private scope to ALL', (b) => (b['scope'] = 'Private'), '/addressing/mode', 'addresses-required'],
    [
      'an EXPLICIT addressing without agencies',
      (b) => (b['addressing'] = { mode: 'EXPLICIT' }),
      '/addressing/agencies',
      'addresses-required',
    ],
    ['a REGIONS addressing without regions', (b) => (b['addressing'] = { mode: 'REGIONS' }), '/addressing/regions', 'addresses-required'],
    ['an Exercise without exerciseId', (b) => (b['status'] = 'Exercise'), '/exerciseId', 'exercise-id-required'],
    ['an exerciseId on real traffic', (b) => (b['exerciseId'] = 'EX-1'), '/exerciseId', 'exercise-id-not-allowed'],
    ['a blank headline', (b) => (b['headline'] = '  '), '/headline', 'invalid-length'],
    ['a malformed date of birth', (b) => (b['subject'] = { dateOfBirth: '12/05/1987' }), '/subject/dateOfBirth', 'invalid-format'],
    ['a duplicate agency', (b) => (b['neverTo'] = ['DE-NCB', 'DE-NCB']), '/neverTo/1', 'duplicate'],
    ['a null required field', (b) => (b['scope'] = null), '/scope', 'required'],
  ])('names the field for %s', (_, breakIt, field, code) => {
    const body = valid();
    breakIt(body);
    expect(errorsOf(body)).toContainEqual({ field, code });
  });

  it('refuses a near-miss agency code instead of correcting it, and says why', () => {
    const body = { ...valid(), neverTo: [' de-ncb'] };
    const r = validateAlertContent(body, agencies, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]?.message).toContain('differs from registry code DE-NCB by case or spacing');
  });

  it('reports every problem at once', () => {
    const body = { ...valid(), tlp: 'X', severity: 'Y', sender: 'DE-NCB' };
    delete (body as Record<string, unknown>)['urgency'];
    expect(
      errorsOf(body)
        .map((e) => e.field)
        .sort(),
    ).toEqual(['/sender', '/severity', '/tlp', '/urgency']);
  });

  it('accepts a DIFFUSION addressed explicitly and an Exercise with its id', () => {
    expect(errorsOf({ ...valid(), noticeType: 'DIFFUSION', addressing: { mode: 'EXPLICIT', agencies: ['DE-NCB'] } })).toEqual([]);
    expect(errorsOf({ ...valid(), status: 'Exercise', exerciseId: 'EX-NORTHSTAR-2026' })).toEqual([]);
  });

  it('refuses a body that is not an object', () => {
    expect(errorsOf([1, 2])).toEqual([{ field: '/', code: 'invalid-type' }]);
  });

  it('refuses NUL or a lone surrogate in any free-text field, naming the field (the storable rules)', () => {
    const fields: [string, (b: Record<string, unknown>, v: string) => void][] = [
      ['/headline', (b, v) => (b['headline'] = v)],
      ['/description', (b, v) => (b['description'] = v)],
      ['/area/description', (b, v) => (b['area'] = { description: v, countries: [] })],
      ['/subject/forenames', (b, v) => (b['subject'] = { forenames: v })],
      ['/subject/victim/details', (b, v) => (b['subject'] = { victim: { category: 'MISSING_MINOR', details: v } })],
      ['/subject/biometrics/photoRefs/0', (b, v) => (b['subject'] = { biometrics: { photoRefs: [v] } })],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim().length > 0 && !s.includes('\0')),
        fc.constantFrom(['\0', 'nul-character'], ['\ud800', 'lone-surrogate'], ['\udc00', 'lone-surrogate']),
        fc.nat(),
        ([field, set], text, [bad, code], at) => {
          const b = valid();
          const i = at % (text.length + 1);
          set(b, `${text.slice(0, i)}${bad}${text.slice(i)}`);
          expect(errorsOf(b)).toEqual([{ field, code }]);
        },
      ),
    );
  });
});

describe('validateCancelBody', () => {
  it('accepts nothing or a note, refuses other fields', () => {
    expect(validateCancelBody(undefined)).toEqual({ ok: true, note: null });
    expect(validateCancelBody({ note: 'Subject arrested' })).toEqual({ ok: true, note: 'Subject arrested' });
    const r = validateCancelBody({ sender: 'DE-NCB' });
    expect(r.ok).toBe(false);
    const nul = validateCancelBody({ note: 'arrested\0' });
    expect(nul.ok ? [] : nul.errors.map((e) => [e.field, e.code])).toEqual([['/note', 'nul-character']]);
  });
});
