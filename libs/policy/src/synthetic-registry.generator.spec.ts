import { describe, expect, it } from '@jest/globals';
import { REGIONS } from '@backbone/codec';
import { IssueCollector } from './yaml-fields.reader.js';
import { validateRegistry } from './registry.loader.js';
import { syntheticRegistry } from './synthetic-registry.generator.js';

describe('syntheticRegistry', () => {
  it('is deterministic for a given size and seed', () => {
    expect(syntheticRegistry(196)).toEqual(syntheticRegistry(196));
    expect(syntheticRegistry(196, 7)).not.toEqual(syntheticRegistry(196, 8));
  });

  it('passes the registry validator, with unique codes', () => {
    const registry = syntheticRegistry(300);
    const out = new IssueCollector('synthetic');
    const plain = registry.agencies.map((agency) => ({ ...agency, joined: agency.joined.toISOString().slice(0, 10) }));
    expect(validateRegistry({ version: registry.version, agencies: plain }, out)).toBeDefined();
    expect(out.issues).toEqual([]);
    expect(new Set(registry.agencies.map((agency) => agency.code)).size).toBe(300);
  });

  it('spreads 196 agencies over every region, membership, status and designation', () => {
    const { agencies } = syntheticRegistry(196);
    expect(agencies).toHaveLength(196);
    expect(new Set(agencies.map((agency) => agency.region))).toEqual(new Set(REGIONS));
    expect(new Set(agencies.map((agency) => agency.deathPenalty)).size).toBe(3);
    const count = (predicate: (agency: (typeof agencies)[number]) => boolean) => agencies.filter(predicate).length;
    expect(count((agency) => agency.memberships.includes('EU'))).toBe(27);
    expect(count((agency) => agency.memberships.includes('SCHENGEN'))).toBe(29);
    for (const share of [
      count((a) => a.adequacy),
      count((a) => a.victimSupport),
      count((a) => a.agreements.length > 0),
      count((a) => a.joined.getUTCFullYear() >= 2020),
    ]) {
      expect(share).toBeGreaterThan(5);
      expect(share).toBeLessThan(190);
    }
    expect(agencies.slice(0, 3).map((agency) => agency.code)).toEqual(['FR-NCB', 'DE-NCB', 'NL-NCB']);
  });
});
