// Hand-built registry and policy for the unit tests: small, in code (no file reads), with one
// agency for every combination a rule cares about. Mirrors the shipped files in spirit, but
// tests of rule mechanics must not break when the community edits policies/.
import type { PolicyDocument, PolicyRule } from '../policy-document.types.js';
import type { Agency, Registry } from '../registry.types.js';

const FOUNDED = new Date('2000-01-01T00:00:00.000Z');

function agency(fields: Partial<Agency> & Pick<Agency, 'code' | 'country' | 'region'>): Agency {
  return {
    name: `Bureau ${fields.code}`,
    memberships: [],
    agreements: [],
    adequacy: false,
    deathPenalty: 'abolitionist',
    victimSupport: false,
    joined: FOUNDED,
    ...fields,
  };
}

export const FIXTURE_AGENCIES: readonly Agency[] = [
  agency({ code: 'FR-NCB', country: 'FR', region: 'EUROPE', memberships: ['EU', 'SCHENGEN'], adequacy: true, victimSupport: true }),
  agency({ code: 'DE-NCB', country: 'DE', region: 'EUROPE', memberships: ['EU', 'SCHENGEN'], adequacy: true }),
  agency({ code: 'NO-NCB', country: 'NO', region: 'EUROPE', memberships: ['SCHENGEN'], adequacy: true }),
  agency({ code: 'GB-NCB', country: 'GB', region: 'EUROPE', agreements: ['EU_OPERATIONAL'], adequacy: true, victimSupport: true }),
  agency({ code: 'UA-NCB', country: 'UA', region: 'EUROPE', agreements: ['EU_OPERATIONAL'], joined: new Date('2026-06-01T00:00:00.000Z') }),
  agency({
    code: 'US-NCB',
    country: 'US',
    region: 'AMERICAS',
    agreements: ['EU_OPERATIONAL'],
    deathPenalty: 'retentionist',
    victimSupport: true,
  }),
  agency({ code: 'BR-NCB', country: 'BR', region: 'AMERICAS' }),
  agency({ code: 'JP-NCB', country: 'JP', region: 'ASIA_SOUTH_PACIFIC', adequacy: true, deathPenalty: 'retentionist' }),
  agency({ code: 'SG-NCB', country: 'SG', region: 'ASIA_SOUTH_PACIFIC', deathPenalty: 'retentionist' }),
  agency({ code: 'MA-NCB', country: 'MA', region: 'MIDDLE_EAST_NORTH_AFRICA', deathPenalty: 'abolitionist_in_practice' }),
  agency({ code: 'ZA-NCB', country: 'ZA', region: 'AFRICA', victimSupport: true }),
  // Joins after the fixture's decision time.
  agency({ code: 'KE-NCB', country: 'KE', region: 'AFRICA', joined: new Date('2030-01-01T00:00:00.000Z') }),
];

export function fixtureRegistry(agencies: readonly Agency[] = FIXTURE_AGENCIES): Registry {
  return { version: 'fixture', source: 'fixture-registry', agencies };
}

/** The decision time of most tests: after UA-NCB joined, before KE-NCB joins. */
export const FIXTURE_NOW = new Date('2026-07-01T12:00:00.000Z');

export const FIXTURE_RULES: readonly PolicyRule[] = [
  { id: 'victims', kind: 'victim-protection', description: 'victims', categories: ['TRAFFICKING_VICTIM', 'MISSING_MINOR'] },
  { id: 'biometrics', kind: 'redaction', description: 'bio', group: 'BIOMETRICS', originators: 'area', exemptIf: ['adequacy'] },
  {
    id: 'documents',
    kind: 'redaction',
    description: 'docs',
    group: 'IDENTITY_DOCUMENTS',
    originators: 'area',
    exemptIf: ['areaMember', 'adequacy', 'agreement'],
  },
  {
    id: 'transfer',
    kind: 'third-country-transfer',
    description: 'transfer',
    area: ['EU', 'SCHENGEN'],
    recognisedAgreements: ['EU_OPERATIONAL'],
  },
  {
    id: 'capital',
    kind: 'capital-offence',
    description: 'capital',
    recipientStatuses: ['retentionist'],
    assurances: { 'FR-NCB': ['US-NCB'] },
  },
  {
    id: 'purposes',
    kind: 'purpose-limits',
    description: 'purposes',
    noticeTypes: { RED: ['ARREST_EXTRADITION', 'LOCATE_PERSON'], YELLOW: ['LOCATE_PERSON', 'HUMANITARIAN'] },
    agencies: { 'UA-NCB': ['LOCATE_PERSON', 'HUMANITARIAN'] },
  },
  { id: 'review', kind: 'review-hold', description: 'review', noticeTypes: ['DIFFUSION'], purposes: ['ARREST_EXTRADITION'] },
  { id: 'new-members', kind: 'new-member', description: 'new', scopes: ['Restricted', 'Private'], exemptNoticeTypes: ['YELLOW'] },
  { id: 'ex-1', kind: 'exercise', description: 'exercise', exerciseId: 'EX-1', participants: ['FR-NCB', 'DE-NCB', 'MA-NCB', 'XX-UNKNOWN'] },
  { id: 'dnao', kind: 'execution-flag', description: 'dnao', when: 'do-not-act-on', flag: 'DO_NOT_ACT_ON_TERRITORY' },
  { id: 'h1', kind: 'execution-flag', description: 'h1', when: 'handling-H1', flag: 'NO_EVIDENTIAL_USE' },
  { id: 'h3', kind: 'execution-flag', description: 'h3', when: 'handling-H3', flag: 'RESTRICTED_USE' },
  { id: 'assured', kind: 'execution-flag', description: 'assured', when: 'capital-assurance', flag: 'DEATH_PENALTY_ASSURANCE' },
];

export function fixturePolicy(rules: readonly PolicyRule[] = FIXTURE_RULES, version = '2026-11-01'): PolicyDocument {
  return { version, description: 'fixture', source: 'fixture-policy', rules };
}

/** The fixture rules without the kinds given (to test an engine with a rule absent). */
export function fixtureRulesWithout(...kinds: PolicyRule['kind'][]): PolicyRule[] {
  return FIXTURE_RULES.filter((rule) => !kinds.includes(rule.kind));
}
