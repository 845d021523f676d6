import { describe, expect, it } from '@jest/globals';
import {
  DeskFilterError,
  filterConditions,
  normaliseDeskFilter,
  type DeskFilter,
  type DeskFilterInput,
  type FilterColumns,
} from './desk.filter.js';

/** The fields named by the DeskFilterError that `input` raises (fails the test when it does not raise). */
function badFields(input: unknown): string[] {
  try {
    normaliseDeskFilter(input as DeskFilterInput);
  } catch (err) {
    expect(err).toBeInstanceOf(DeskFilterError);
    return (err as DeskFilterError).problems.map((p) => p.field);
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

/**
 * Evaluates the SQL conditions filterConditions() builds (`a.col = ANY($n::text[])`, ANDed) on
 * one row, so matching is tested through the very code the inbox queries use.
 */
function matches(filter: DeskFilter, row: FilterColumns): boolean {
  const params: unknown[] = [];
  const conditions = filterConditions(filter, 'a', params);
  return conditions.every((c) => {
    const m = /^a\.([a-z_]+) = ANY\(\$(\d+)::text\[\]\)$/.exec(c);
    if (!m) throw new Error(`unexpected condition ${c}`);
    return (params[Number(m[2]) - 1] as string[]).includes(row[m[1] as keyof FilterColumns]);
  });
}

const row = (overrides: Partial<FilterColumns> = {}): FilterColumns => ({
  sender_region: 'EUROPE',
  notice_type: 'RED',
  urgency: 'Expected',
  severity: 'Severe',
  tlp: 'AMBER',
  ...overrides,
});

describe('normaliseDeskFilter validation', () => {
  it('accepts an empty filter as "no restriction"', () => {
    expect(normaliseDeskFilter({})).toEqual({ regions: [], noticeTypes: [], urgencies: [], severities: [], tlps: [] });
    expect(normaliseDeskFilter({ regions: [], tlps: undefined })).toEqual({
      regions: [],
      noticeTypes: [],
      urgencies: [],
      severities: [],
      tlps: [],
    });
  });

  it('normalises lists (duplicates removed) and turns minimums into lists in CAP order', () => {
    expect(
      normaliseDeskFilter({
        regions: ['EUROPE', 'EUROPE', 'AFRICA'],
        noticeTypes: ['RED'],
        minUrgency: 'Expected',
        minSeverity: 'Moderate',
        tlps: ['RED', 'AMBER'],
      }),
    ).toEqual({
      regions: ['EUROPE', 'AFRICA'],
      noticeTypes: ['RED'],
      urgencies: ['Immediate', 'Expected'],
      severities: ['Extreme', 'Severe', 'Moderate'],
      tlps: ['RED', 'AMBER'],
    });
    expect(normaliseDeskFilter({ minUrgency: 'Unknown' }).urgencies).toEqual(['Immediate', 'Expected', 'Future', 'Past', 'Unknown']);
  });

  it('keeps only the listed levels that meet the minimum when both are given', () => {
    expect(normaliseDeskFilter({ urgencies: ['Immediate', 'Past'], minUrgency: 'Future' }).urgencies).toEqual(['Immediate']);
    expect(normaliseDeskFilter({ severities: ['Minor', 'Extreme'], minSeverity: 'Severe' }).severities).toEqual(['Extreme']);
  });

  it.each([
    ['regions', { regions: ['EUROPA'] }],
    ['regions', { regions: 'EUROPE' }],
    ['noticeTypes', { noticeTypes: ['CRIMSON'] }],
    ['noticeTypes', { noticeTypes: [1] }],
    ['urgencies', { urgencies: ['Soon'] }],
    ['minUrgency', { minUrgency: 'Soon' }],
    ['minUrgency', { minUrgency: ['Expected'] }],
    ['severities', { severities: ['Catastrophic'] }],
    ['minSeverity', { minSeverity: 'severe' }],
    ['tlps', { tlps: ['WHITE'] }],
    ['tlps', { tlps: { RED: true } }],
    ['region', { region: ['EUROPE'] }],
  ])('names %s when it is not valid: %j', (field, input) => {
    expect(badFields(input)).toContain(field);
  });

  it('refuses a list and a minimum with nothing in common instead of storing "no restriction"', () => {
    expect(badFields({ urgencies: ['Past'], minUrgency: 'Expected' })).toEqual(['minUrgency']);
    expect(badFields({ severities: ['Minor'], minSeverity: 'Severe' })).toEqual(['minSeverity']);
  });

  it('names every bad field at once, with the allowed values in the message', () => {
    let error: DeskFilterError | undefined;
    try {
      normaliseDeskFilter({ regions: ['MARS'], noticeTypes: ['RED'], tlps: ['WHITE'], minSeverity: 'Huge' });
    } catch (err) {
      error = err as DeskFilterError;
    }
    expect(error?.problems.map((p) => p.field).sort()).toEqual(['minSeverity', 'regions', 'tlps']);
    expect(error?.problems.find((p) => p.field === 'regions')?.message).toMatch(/unknown MARS; allowed: AFRICA, .*EUROPE/);
    expect(error?.message).toContain('tlps: unknown WHITE');
  });
});

describe('desk filter matching (the SQL conditions)', () => {
  it('matches everything without restrictions, and builds no condition', () => {
    const filter = normaliseDeskFilter({});
    expect(filterConditions(filter, 'a', [])).toEqual([]);
    expect(matches(filter, row())).toBe(true);
    expect(
      matches(filter, row({ sender_region: 'AFRICA', notice_type: 'BLUE', urgency: 'Unknown', severity: 'Unknown', tlp: 'CLEAR' })),
    ).toBe(true);
  });

  it('binds values as parameters after those already present, never splicing them', () => {
    const params: unknown[] = ['earlier'];
    const conditions = filterConditions(normaliseDeskFilter({ regions: ['EUROPE'], tlps: ['RED'] }), 'v', params);
    expect(conditions).toEqual(['v.sender_region = ANY($2::text[])', 'v.tlp = ANY($3::text[])']);
    expect(params).toEqual(['earlier', ['EUROPE'], ['RED']]);
  });

  it('matches regions (the sender region) and notice types as "any of"', () => {
    const filter = normaliseDeskFilter({ regions: ['EUROPE', 'AFRICA'], noticeTypes: ['RED', 'DIFFUSION'] });
    expect(matches(filter, row())).toBe(true);
    expect(matches(filter, row({ sender_region: 'AFRICA', notice_type: 'DIFFUSION' }))).toBe(true);
    expect(matches(filter, row({ sender_region: 'AMERICAS' }))).toBe(false);
    expect(matches(filter, row({ notice_type: 'YELLOW' }))).toBe(false);
  });

  it('matches urgency and severity lists', () => {
    const filter = normaliseDeskFilter({ urgencies: ['Immediate', 'Past'], severities: ['Minor'] });
    expect(matches(filter, row({ urgency: 'Past', severity: 'Minor' }))).toBe(true);
    expect(matches(filter, row({ urgency: 'Expected', severity: 'Minor' }))).toBe(false);
    expect(matches(filter, row({ urgency: 'Immediate', severity: 'Severe' }))).toBe(false);
  });

  it('matches minimums: that level or more urgent/severe, Unknown lowest', () => {
    const filter = normaliseDeskFilter({ minUrgency: 'Expected', minSeverity: 'Severe' });
    expect(matches(filter, row({ urgency: 'Immediate', severity: 'Extreme' }))).toBe(true);
    expect(matches(filter, row({ urgency: 'Expected', severity: 'Severe' }))).toBe(true);
    expect(matches(filter, row({ urgency: 'Future' }))).toBe(false);
    expect(matches(filter, row({ urgency: 'Unknown' }))).toBe(false);
    expect(matches(filter, row({ severity: 'Moderate' }))).toBe(false);
    expect(matches(filter, row({ severity: 'Unknown' }))).toBe(false);
  });

  it('matches TLP labels exactly (RED does not include AMBER)', () => {
    const filter = normaliseDeskFilter({ tlps: ['RED', 'AMBER_STRICT'] });
    expect(matches(filter, row({ tlp: 'RED' }))).toBe(true);
    expect(matches(filter, row({ tlp: 'AMBER_STRICT' }))).toBe(true);
    expect(matches(filter, row({ tlp: 'AMBER' }))).toBe(false);
    expect(matches(filter, row({ tlp: 'CLEAR' }))).toBe(false);
  });

  it('requires every restricted field to match (AND across fields)', () => {
    const filter = normaliseDeskFilter({ regions: ['EUROPE'], noticeTypes: ['RED'], minSeverity: 'Severe', tlps: ['AMBER'] });
    expect(matches(filter, row())).toBe(true);
    expect(matches(filter, row({ tlp: 'GREEN' }))).toBe(false);
    expect(matches(filter, row({ severity: 'Minor' }))).toBe(false);
  });
});
