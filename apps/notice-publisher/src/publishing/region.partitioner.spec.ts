import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { REGIONS } from '@backbone/codec';
import { PARTITIONS_PER_REGION, REGION_ORDER, SUBMITTED_PARTITIONS } from '@backbone/kafka';
import { submittedPartition } from './region.partitioner.js';

describe('submittedPartition', () => {
  it("keeps every alert inside its sender region's range", () => {
    for (const region of REGIONS) {
      const first = REGION_ORDER.indexOf(region) * PARTITIONS_PER_REGION;
      for (let i = 0; i < 200; i++) {
        const p = submittedPartition(region, randomUUID());
        expect(p).toBeGreaterThanOrEqual(first);
        expect(p).toBeLessThan(first + PARTITIONS_PER_REGION);
        expect(p).toBeLessThan(SUBMITTED_PARTITIONS);
      }
    }
  });

  it('is stable for one alertId (every version on one partition), whatever its case', () => {
    const id = randomUUID();
    expect(submittedPartition('EUROPE', id)).toBe(submittedPartition('EUROPE', id.toUpperCase()));
  });

  it('is pinned, so a change of hash cannot silently reorder versions across a deployment', () => {
    expect(submittedPartition('EUROPE', '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f')).toMatchSnapshot();
  });

  it('spreads alerts over the partitions of a region', () => {
    const used = new Set(Array.from({ length: 300 }, () => submittedPartition('AFRICA', randomUUID())));
    expect(used.size).toBe(PARTITIONS_PER_REGION);
  });
});
