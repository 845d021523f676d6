// fast-check generators of registries, policy documents and alerts for the property tests.
// Codes, countries and exercise ids come from small pools so that the alert's lists, the
// registry and the policy collide often: random strings would almost never meet.
import * as fc from 'fast-check';
import {
  ADDRESSING_MODES,
  DOCUMENT_KINDS,
  FIELD_GROUPS,
  HANDLING_CODES,
  NOTICE_TYPES,
  PURPOSES,
  REGIONS,
  SCOPES,
  STATUSES,
  TLPS,
  VICTIM_CATEGORIES,
  type Alert,
  type Subject,
} from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import {
  FLAG_TRIGGERS,
  REDACTION_EXEMPTIONS,
  REDACTION_ORIGINATORS,
  type PolicyDocument,
  type PolicyRule,
} from '../policy-document.types.js';
import { DEATH_PENALTY_STATUSES, MEMBERSHIPS, type Agency, type Registry } from '../registry.types.js';

export const CODE_POOL = ['AA-NCB', 'BB-NCB', 'CC-NCB', 'DD-NCB', 'EE-NCB', 'FF-NCB', 'GG-NCB'] as const;
/** Codes the registry never holds: the "unknown agency" leak cases. */
const UNKNOWN_CODES = ['ZZ-NCB', 'YY-NCB'];
const ANY_CODE = [...CODE_POOL, ...UNKNOWN_CODES];
const COUNTRY_POOL = ['FR', 'DE', 'US', 'MA', 'JP'];
const AGREEMENT_POOL = ['EU_OPERATIONAL', 'BILATERAL_X'];
const EXERCISE_POOL = ['EX-1', 'EX-2', 'EX-3'];
const FLAG_POOL = ['FLAG_A', 'FLAG_B', 'DO_NOT_ACT_ON_TERRITORY'];

const DAY = 86_400_000;
/** Decision time of the property tests; joined/sent/expires are drawn around it. */
export const PROPERTY_NOW = new Date('2026-07-01T00:00:00.000Z');
const NOW_MS = PROPERTY_NOW.getTime();
const instantAround = fc.constantFrom(-400, -30, -1, 0, 1, 30).map((days) => new Date(NOW_MS + days * DAY));
const midnightAround = fc.constantFrom(-4000, -100, -1, 0, 1, 200).map((days) => new Date(NOW_MS + days * DAY));

const subset = <T>(values: readonly T[], maxLength = values.length) => fc.subarray([...values], { maxLength });

function agencyArb(code: string): fc.Arbitrary<Agency> {
  return fc.record({
    code: fc.constant(code),
    name: fc.constant(`Bureau ${code}`),
    country: fc.constantFrom(...COUNTRY_POOL),
    region: fc.constantFrom(...REGIONS),
    memberships: subset(MEMBERSHIPS),
    agreements: subset(AGREEMENT_POOL),
    adequacy: fc.boolean(),
    deathPenalty: fc.constantFrom(...DEATH_PENALTY_STATUSES),
    victimSupport: fc.boolean(),
    joined: midnightAround,
  });
}

export const registryArb: fc.Arbitrary<Registry> = fc
  .shuffledSubarray([...CODE_POOL], { minLength: 1 })
  .chain((codes) => fc.tuple(...codes.map(agencyArb)))
  .map((agencies) => ({ version: 'prop', source: 'property-registry', agencies }));

const codeListMap = fc.dictionary(fc.constantFrom(...ANY_CODE), subset(ANY_CODE, 4), { maxKeys: 3 });

const ruleArbs: Record<PolicyRule['kind'], fc.Arbitrary<PolicyRule>> = {
  'victim-protection': fc.record({
    id: fc.constant('victims'),
    kind: fc.constant('victim-protection' as const),
    description: fc.constant('d'),
    categories: fc.subarray([...VICTIM_CATEGORIES], { minLength: 1 }),
  }),
  redaction: fc.record({
    id: fc.constant('redaction'),
    kind: fc.constant('redaction' as const),
    description: fc.constant('d'),
    group: fc.constantFrom(...FIELD_GROUPS),
    originators: fc.constantFrom(...REDACTION_ORIGINATORS),
    exemptIf: subset(REDACTION_EXEMPTIONS),
  }),
  'third-country-transfer': fc.record({
    id: fc.constant('transfer'),
    kind: fc.constant('third-country-transfer' as const),
    description: fc.constant('d'),
    area: fc.subarray([...MEMBERSHIPS], { minLength: 1 }),
    recognisedAgreements: subset(AGREEMENT_POOL),
  }),
  'capital-offence': fc.record({
    id: fc.constant('capital'),
    kind: fc.constant('capital-offence' as const),
    description: fc.constant('d'),
    recipientStatuses: fc.subarray([...DEATH_PENALTY_STATUSES], { minLength: 1 }),
    assurances: codeListMap,
  }),
  'purpose-limits': fc.record({
    id: fc.constant('purposes'),
    kind: fc.constant('purpose-limits' as const),
    description: fc.constant('d'),
    noticeTypes: fc.dictionary(fc.constantFrom(...NOTICE_TYPES), subset(PURPOSES), { maxKeys: 4 }),
    agencies: fc.dictionary(fc.constantFrom(...ANY_CODE), subset(PURPOSES), { maxKeys: 3 }),
  }),
  'review-hold': fc.record({
    id: fc.constant('review'),
    kind: fc.constant('review-hold' as const),
    description: fc.constant('d'),
    noticeTypes: fc.subarray([...NOTICE_TYPES], { minLength: 1, maxLength: 3 }),
    purposes: subset(PURPOSES, 3),
  }),
  'new-member': fc.record({
    id: fc.constant('new-member'),
    kind: fc.constant('new-member' as const),
    description: fc.constant('d'),
    scopes: fc.subarray([...SCOPES], { minLength: 1 }),
    exemptNoticeTypes: subset(NOTICE_TYPES, 3),
  }),
  exercise: fc.record({
    id: fc.constant('exercise'),
    kind: fc.constant('exercise' as const),
    description: fc.constant('d'),
    exerciseId: fc.constantFrom(...EXERCISE_POOL.slice(0, 2)),
    participants: fc.subarray(ANY_CODE, { minLength: 1 }),
  }),
  'execution-flag': fc.record({
    id: fc.constant('flag'),
    kind: fc.constant('execution-flag' as const),
    description: fc.constant('d'),
    when: fc.constantFrom(...FLAG_TRIGGERS),
    flag: fc.constantFrom(...FLAG_POOL),
  }),
};

/**
 * Random documents with the loader's structural guarantees (one rule per singleton kind,
 * unique rule ids and exercise ids) but none of its content invariants, so the engine is
 * exercised with rules absent too.
 */
export const policyArb: fc.Arbitrary<PolicyDocument> = fc
  .record({
    singletons: fc.record(
      {
        victim: ruleArbs['victim-protection'],
        transfer: ruleArbs['third-country-transfer'],
        capital: ruleArbs['capital-offence'],
        purposes: ruleArbs['purpose-limits'],
        newMember: ruleArbs['new-member'],
      },
      { requiredKeys: [] },
    ),
    redactions: fc.array(ruleArbs.redaction, { maxLength: 3 }),
    holds: fc.array(ruleArbs['review-hold'], { maxLength: 2 }),
    exercises: fc.uniqueArray(ruleArbs.exercise, { maxLength: 2, selector: (rule) => (rule as { exerciseId: string }).exerciseId }),
    flags: fc.array(ruleArbs['execution-flag'], { maxLength: 4 }),
  })
  .map(({ singletons, redactions, holds, exercises, flags }) => {
    const rules = [...Object.values(singletons), ...redactions, ...holds, ...exercises, ...flags].map((rule, i) => ({
      ...rule,
      id: `${rule.id}-${i}`,
    }));
    return { version: '2026-01-01', description: 'random', source: 'property-policy', rules } as PolicyDocument;
  });

const subjectArb: fc.Arbitrary<Subject> = fc
  .record({
    withBiometrics: fc.boolean(),
    documentKind: fc.option(fc.constantFrom(...DOCUMENT_KINDS)),
    victimCategory: fc.option(fc.constantFrom(...VICTIM_CATEGORIES)),
  })
  .map(({ withBiometrics, documentKind, victimCategory }) => ({
    familyName: 'DOE',
    forenames: null,
    dateOfBirth: null,
    nationalities: [],
    sex: null,
    biometrics: withBiometrics ? { fingerprintRefs: ['f1'], dnaProfileRef: null, photoRefs: [] } : null,
    identityDocuments: documentKind === null ? [] : [{ kind: documentKind, number: 'N1', issuingCountry: 'FR' }],
    victim: victimCategory === null ? null : { category: victimCategory, details: 'd', lastSeen: null },
  }));

export const alertArb: fc.Arbitrary<Alert> = fc
  .record({
    sender: fc.constantFrom(...ANY_CODE, ...CODE_POOL),
    status: fc.constantFrom(...STATUSES, 'Actual', 'Actual', 'Exercise'),
    exerciseId: fc.option(fc.constantFrom(...EXERCISE_POOL), { freq: 3 }),
    scope: fc.constantFrom(...SCOPES),
    noticeType: fc.constantFrom(...NOTICE_TYPES),
    purposes: subset(PURPOSES, 3),
    tlp: fc.constantFrom(...TLPS),
    handlingCode: fc.constantFrom(...HANDLING_CODES),
    addressing: fc.record({
      mode: fc.constantFrom(...ADDRESSING_MODES),
      regions: subset(REGIONS),
      agencies: subset(ANY_CODE),
    }),
    releasableTo: fc.oneof(fc.constant<string[]>([]), subset(ANY_CODE)),
    neverTo: fc.oneof(fc.constant<string[]>([]), subset(ANY_CODE, 3)),
    consentedThirdCountries: subset(ANY_CODE, 3),
    capitalOffence: fc.boolean(),
    doNotActOn: subset(COUNTRY_POOL, 2),
    expires: fc.option(instantAround, { freq: 2 }),
    sent: instantAround,
    subject: fc.option(subjectArb, { freq: 4 }),
  })
  .map((fields): Alert => sampleAlert(fields));
