import { describe, expect, it } from '@jest/globals';
import { PolicyValidationError, type ValidationIssue } from './policy-validation.error.js';
import { loadRegistry, parseRegistry } from './registry.loader.js';

const FILE = 'policies/registry.yaml';
const FR =
  '{ code: FR-NCB, name: "NCB Paris", country: FR, region: EUROPE, memberships: [EU, SCHENGEN], agreements: [], adequacy: true, deathPenalty: abolitionist, victimSupport: true, joined: "2000-01-01" }';

function issuesOf(text: string): ValidationIssue[] {
  try {
    parseRegistry(text, FILE);
  } catch (error) {
    if (error instanceof PolicyValidationError) return [...error.issues];
    throw error;
  }
  throw new Error('expected a PolicyValidationError');
}

const withAgencies = (...entries: string[]) => `version: "1"\nagencies:\n${entries.map((entry) => `  - ${entry}`).join('\n')}\n`;
const fr = (replace: Record<string, string>) => Object.entries(replace).reduce((entry, [from, to]) => entry.replace(from, to), FR);

describe('loadRegistry', () => {
  it('loads the shipped registry', () => {
    const registry = loadRegistry(FILE);
    expect(registry.version).toBe('2026-11-01');
    expect(registry.source).toBe(FILE);
    expect(registry.agencies.length).toBeGreaterThanOrEqual(20);
    expect(registry.agencies.find((agency) => agency.code === 'UA-NCB')).toMatchObject({
      country: 'UA',
      region: 'EUROPE',
      memberships: [],
      agreements: ['EU_OPERATIONAL'],
      adequacy: false,
      deathPenalty: 'abolitionist',
      joined: new Date('2026-06-01T00:00:00.000Z'),
    });
  });

  it('reports a missing file as a validation error naming it', () => {
    expect(() => loadRegistry('no/such/registry.yaml')).toThrow('no/such/registry.yaml: registry file not found');
  });

  it('parses a valid entry into a typed agency', () => {
    expect(parseRegistry(withAgencies(FR), FILE).agencies[0]).toEqual({
      code: 'FR-NCB',
      name: 'NCB Paris',
      country: 'FR',
      region: 'EUROPE',
      memberships: ['EU', 'SCHENGEN'],
      agreements: [],
      adequacy: true,
      deathPenalty: 'abolitionist',
      victimSupport: true,
      joined: new Date('2000-01-01T00:00:00.000Z'),
    });
  });

  it('names file, entry (index and code) and field of every error', () => {
    const issues = issuesOf(
      withAgencies(FR, fr({ 'FR-NCB': 'XX-NCB', 'country: FR': 'country: XX', 'region: EUROPE': 'region: ATLANTIS' })),
    );
    expect(issues).toEqual([
      { file: FILE, path: 'agencies[1] (XX-NCB).country', message: '"XX" is not an ISO 3166-1 alpha-2 country code' },
      { file: FILE, path: 'agencies[1] (XX-NCB).region', message: expect.stringContaining('"ATLANTIS" is not one of: AFRICA') },
    ]);
    expect(new PolicyValidationError(issues).message).toContain(
      'policies/registry.yaml: agencies[1] (XX-NCB).country: "XX" is not an ISO 3166-1',
    );
  });

  it('rejects duplicate agency codes, pointing at the first one', () => {
    expect(issuesOf(withAgencies(FR, FR))).toEqual([
      { file: FILE, path: 'agencies[1] (FR-NCB).code', message: 'duplicate agency code FR-NCB (first at agencies[0])' },
    ]);
  });

  it.each([
    [
      { 'deathPenalty: abolitionist': 'deathPenalty: sometimes' },
      'deathPenalty',
      'is not one of: abolitionist, abolitionist_in_practice, retentionist',
    ],
    [{ 'memberships: [EU, SCHENGEN]': 'memberships: [EU, NATO]' }, 'memberships[1]', '"NATO" is not one of: EU, SCHENGEN'],
    [{ 'memberships: [EU, SCHENGEN]': 'memberships: [EU, EU]' }, 'memberships[1]', 'listed twice'],
    [{ 'adequacy: true': 'adequacy: "yes"' }, 'adequacy', 'must be true or false'],
    [{ '"2000-01-01"': '"2026-02-30"' }, 'joined', 'not a valid date'],
    [{ 'agreements: []': 'agreements: [eu operational]' }, 'agreements[0]', 'is not an agreement code'],
    [{ 'adequacy: true, ': '' }, 'adequacy', 'is required'],
    [{ 'victimSupport: true': 'victimSupprot: true' }, 'victimSupprot', 'unknown field'],
    [{ 'code: FR-NCB': 'code: "fr ncb"' }, 'code', 'is not an agency code'],
  ])('rejects %j at field %s', (replace: Record<string, string>, field, message) => {
    const issues = issuesOf(withAgencies(fr(replace)));
    const code = replace['code: FR-NCB'] ? 'fr ncb' : 'FR-NCB';
    expect(issues).toContainEqual({ file: FILE, path: `agencies[0] (${code}).${field}`, message: expect.stringContaining(message) });
  });

  it('reports every problem at once, not just the first', () => {
    const issues = issuesOf(
      withAgencies(fr({ 'country: FR': 'country: fr' }), fr({ 'FR-NCB': 'DE-NCB', 'adequacy: true': 'adequacy: 1' })),
    );
    expect(issues.map((issue) => issue.path)).toEqual(['agencies[0] (FR-NCB).country', 'agencies[1] (DE-NCB).adequacy']);
  });

  it('rejects structural problems and invalid YAML', () => {
    expect(issuesOf('agencies: {}\n')).toEqual([
      { file: FILE, path: 'version', message: 'is required' },
      { file: FILE, path: 'agencies', message: 'must be a list of agencies' },
    ]);
    expect(issuesOf('version: "1"\nagencies:\n  - just-a-string\n')).toEqual([
      { file: FILE, path: 'agencies[0]', message: 'must be a mapping, got "just-a-string"' },
    ]);
    expect(issuesOf('version: "1"\nagencies: [\n')[0]).toMatchObject({ file: FILE, message: expect.stringContaining('invalid YAML') });
    expect(issuesOf('version: "1"\nversion: "2"\nagencies: []\n')).toEqual([
      { file: FILE, path: 'line 2, column 1', message: 'invalid YAML: Map keys must be unique' },
    ]);
  });
});
