import { describe, expect, it } from '@jest/globals';
import { median, percentile } from './stats.js';
import { figure } from './figures.js';

describe('bench statistics', () => {
  it('takes percentiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(median([3, 1, 2])).toBe(2);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it('computes the ratio against the ceiling, or none without one', () => {
    expect(figure(50, 'ops/s', 200).ratio).toBe(0.25);
    expect(figure(50, 'ops/s', null).ratio).toBeNull();
    expect(figure(null, 'ops/s', 10).ratio).toBeNull();
  });
});
