import { describe, expect, it } from '@jest/globals';
import { compareVersions, loadPolicy, parsePolicyDocument } from './policy-document.loader.js';
import { PolicyValidationError, type ValidationIssue } from './policy-validation.error.js';

const FIXTURES = 'libs/policy/src/testing/fixtures';
const FILE = 'policies/rules/2026-11-01.yaml';

/** The two rules every document must hold, followed by `extra` (YAML list items). */
function doc(extra = '', head = 'version: "2026-11-01"\ndescription: test\n'): string {
  return `${head}rules:
  - { id: victims, kind: victim-protection, description: v, categories: [TRAFFICKING_VICTIM, MISSING_MINOR] }
  - { id: dnao, kind: execution-flag, description: d, when: do-not-act-on, flag: DO_NOT_ACT_ON_TERRITORY }
${extra}`;
}

function issuesOf(text: string, file = FILE): ValidationIssue[] {
  try {
    parsePolicyDocument(text, file);
  } catch (error) {
    if (error instanceof PolicyValidationError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a PolicyValidationError');
}

describe('loadPolicy', () => {
  it('loads the shipped rules: newest version by default', () => {
    const policy = loadPolicy('policies');
    expect(policy.version).toBe('2026-11-01');
    expect(policy.source).toBe('policies/rules/2026-11-01.yaml');
    expect(policy.rules.map((rule) => rule.kind)).toEqual(
      expect.arrayContaining(['victim-protection', 'third-country-transfer', 'review-hold', 'exercise']),
    );
  });

  it('picks the newest of several versions, or the one asked for; accepts the rules folder itself', () => {
    expect(loadPolicy(`${FIXTURES}/two-versions`).version).toBe('2026-11-01.2');
    expect(loadPolicy(`${FIXTURES}/two-versions`, '2026-11-01').version).toBe('2026-11-01');
    expect(loadPolicy(`${FIXTURES}/two-versions/rules`).version).toBe('2026-11-01.2');
  });

  it('names the available versions when asked for one that does not exist', () => {
    expect(() => loadPolicy(`${FIXTURES}/two-versions`, '2025-01-01')).toThrow(
      /no policy version 2025-01-01 \(available: 2026-11-01, 2026-11-01.2\)/,
    );
  });

  it('reports a missing directory as a validation error', () => {
    expect(() => loadPolicy('no/such/dir')).toThrow(PolicyValidationError);
  });

  it('orders versions by date, then by sequence number', () => {
    expect(['2026-11-01.10', '2026-12-01', '2026-11-01', '2026-11-01.2'].sort(compareVersions)).toEqual([
      '2026-11-01',
      '2026-11-01.2',
      '2026-11-01.10',
      '2026-12-01',
    ]);
  });
});

describe('parsePolicyDocument', () => {
  it('parses every rule kind with its defaults', () => {
    const policy = parsePolicyDocument(
      doc(`  - { id: r1, kind: redaction, description: d, group: BIOMETRICS, exemptIf: [adequacy] }
  - { id: t, kind: third-country-transfer, description: d, area: [EU], recognisedAgreements: [EU_OPERATIONAL] }
  - { id: h, kind: review-hold, description: d, noticeTypes: [DIFFUSION] }
  - { id: n, kind: new-member, description: d, scopes: [Restricted] }
  - { id: p, kind: purpose-limits, description: d, noticeTypes: { RED: [ARREST_EXTRADITION] } }
`),
      FILE,
    );
    expect(policy.rules.find((rule) => rule.id === 'r1')).toEqual({
      id: 'r1',
      kind: 'redaction',
      description: 'd',
      group: 'BIOMETRICS',
      originators: 'any',
      exemptIf: ['adequacy'],
    });
    expect(policy.rules.find((rule) => rule.id === 'h')).toMatchObject({ purposes: [] });
    expect(policy.rules.find((rule) => rule.id === 'n')).toMatchObject({ exemptNoticeTypes: [] });
    expect(policy.rules.find((rule) => rule.id === 'p')).toMatchObject({ noticeTypes: { RED: ['ARREST_EXTRADITION'] }, agencies: {} });
  });

  it('names file, rule id and field of every error', () => {
    const issues = issuesOf(
      doc(`  - { id: nm, kind: new-member, description: d, scopes: [Restricted, Secret] }
  - { id: cap, kind: capital-offence, description: d, recipientStatuses: [retentionist], assurances: { FR-NCB: [us ncb] } }
  - { id: ex, kind: exercise, description: d, exerciseId: EX-1, participants: [] }
  - { id: pl, kind: purpose-limits, description: d, noticeTypes: { REDD: [ARREST_EXTRADITION] }, agencies: { FR-NCB: [SPYING] } }
`),
    );
    expect(issues).toEqual([
      { file: FILE, path: 'rules[2] (id=nm).scopes[1]', message: '"Secret" is not one of: Public, Restricted, Private' },
      { file: FILE, path: 'rules[3] (id=cap).assurances.FR-NCB[0]', message: expect.stringContaining('"us ncb" is not an agency code') },
      { file: FILE, path: 'rules[4] (id=ex).participants', message: 'must not be empty' },
      { file: FILE, path: 'rules[5] (id=pl).noticeTypes.REDD', message: expect.stringContaining('"REDD" is not a notice type') },
      { file: FILE, path: 'rules[5] (id=pl).agencies.FR-NCB[0]', message: expect.stringContaining('"SPYING" is not one of') },
    ]);
  });

  it('rejects unknown kinds, unknown fields, missing ids and duplicate ids', () => {
    const issues = issuesOf(
      doc(`  - { id: x, kind: allow-everything, description: d }
  - { id: y, kind: review-hold, description: d, noticeTypes: [RED], recipients: [FR-NCB] }
  - { kind: review-hold, description: d, noticeTypes: [RED] }
  - { id: victims, kind: review-hold, description: d, noticeTypes: [RED] }
`),
    );
    expect(issues).toEqual([
      { file: FILE, path: 'rules[2] (id=x).kind', message: expect.stringContaining('"allow-everything" is not one of: victim-protection') },
      { file: FILE, path: 'rules[3] (id=y).recipients', message: expect.stringContaining('unknown field') },
      { file: FILE, path: 'rules[4].id', message: 'is required' },
      { file: FILE, path: 'rules[5] (id=victims).id', message: 'duplicate rule id victims (first at rules[0])' },
    ]);
  });

  it('requires victim protection (covering trafficking victims and missing minors) and the do-not-act-on flag', () => {
    expect(issuesOf('version: "2026-11-01"\ndescription: d\nrules: []\n')).toEqual([
      { file: FILE, path: 'rules', message: expect.stringContaining('a victim-protection rule is required') },
      { file: FILE, path: 'rules', message: expect.stringContaining('with when: do-not-act-on is required') },
    ]);
    const weak = doc().replace('[TRAFFICKING_VICTIM, MISSING_MINOR]', '[OTHER_VULNERABLE]');
    expect(issuesOf(weak).map((issue) => `${issue.path}: ${issue.message}`)).toEqual([
      'rules[0] (id=victims).categories: must include TRAFFICKING_VICTIM',
      'rules[0] (id=victims).categories: must include MISSING_MINOR',
    ]);
  });

  it('rejects a second rule of a kind that must be unique, and repeated exercises', () => {
    const issues = issuesOf(
      doc(`  - { id: n1, kind: new-member, description: d, scopes: [Restricted] }
  - { id: n2, kind: new-member, description: d, scopes: [Private] }
  - { id: e1, kind: exercise, description: d, exerciseId: EX-1, participants: [FR-NCB] }
  - { id: e2, kind: exercise, description: d, exerciseId: EX-1, participants: [DE-NCB] }
`),
    );
    expect(issues).toEqual([
      { file: FILE, path: 'rules[3] (id=n2)', message: 'a document may hold only one new-member rule (first: n1)' },
      { file: FILE, path: 'rules[5] (id=e2).exerciseId', message: 'exercise EX-1 is already defined by rule e1' },
    ]);
  });

  it('rejects area-based redactions without a transfer rule to define the area', () => {
    const issues = issuesOf(
      doc('  - { id: r, kind: redaction, description: d, group: BIOMETRICS, originators: area, exemptIf: [areaMember] }\n'),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['rules[2] (id=r).originators', 'rules[2] (id=r).exemptIf']);
  });

  it('requires the version to be well formed and to match the file name', () => {
    expect(issuesOf(doc('', 'version: "2026-12-01"\ndescription: d\n'))).toEqual([
      { file: FILE, path: 'version', message: '"2026-12-01" does not match the file name (2026-11-01); name the file <version>.yaml' },
    ]);
    expect(issuesOf(doc('', 'version: "latest"\ndescription: d\n'))[0]).toMatchObject({
      path: 'version',
      message: expect.stringContaining('a policy version YYYY-MM-DD[.N]'),
    });
  });
});
