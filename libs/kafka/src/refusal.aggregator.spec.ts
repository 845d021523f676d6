import { describe, expect, it } from '@jest/globals';
import { AnonymousRefusalLimiter } from './anonymous-refusal.limiter.js';
import { clientBucketOf, OVERFLOW_KEY, RefusalAggregator } from './refusal.aggregator.js';

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('clientBucketOf', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['::1', '0:0:0::/48'],
    [undefined, 'unknown'],
    ['not-an-address', 'unknown'],
  ])('%s → %s', (address, bucket) => {
    expect(clientBucketOf(address)).toBe(bucket);
  });
});

describe('RefusalAggregator', () => {
  it('counts per key with the first and last time, and a drain starts a new window', () => {
    const agg = new RefusalAggregator(10);
    const key = { route: '/inbox', reason: 'missing-credential', client: '203.0.113.0/24' };
    agg.add(key, at(1));
    agg.add(key, at(5));
    agg.add({ ...key, reason: 'unknown-credential' }, at(3));
    const windows = agg.drain();
    expect(windows).toEqual([
      { ...key, count: 2, firstAt: at(1), lastAt: at(5) },
      { ...key, reason: 'unknown-credential', count: 1, firstAt: at(3), lastAt: at(3) },
    ]);
    expect(agg.drain()).toEqual([]);
  });

  it('holds at most maxKeys keys and counts the rest under the overflow key, losing none', () => {
    const agg = new RefusalAggregator(3);
    for (let i = 0; i < 100; i++) agg.add({ route: `/r${i}`, reason: 'missing-credential', client: 'x' }, at(i % 60));
    expect(agg.size).toBe(4);
    expect(agg.overflowCount).toBe(97);
    const windows = agg.drain();
    expect(windows.reduce((n, w) => n + w.count, 0)).toBe(100);
    expect(windows.find((w) => w.reason === OVERFLOW_KEY.reason)?.count).toBe(97);
  });
});

describe('AnonymousRefusalLimiter', () => {
  it('limits an address past the limit until its window ends, with the seconds left', () => {
    const limiter = new AnonymousRefusalLimiter(3, 10_000);
    const t0 = 1_000_000; // a window boundary
    expect([1, 2, 3].map(() => limiter.hit('a', t0).limited)).toEqual([false, false, false]);
    expect(limiter.hit('a', t0 + 2_500)).toEqual({ limited: true, retryAfterSeconds: 8 });
    // Another address has its own count.
    expect(limiter.hit('b', t0 + 2_500).limited).toBe(false);
    // The next window starts afresh.
    expect(limiter.hit('a', t0 + 10_000).limited).toBe(false);
  });

  it('shares one counter among addresses beyond its bound', () => {
    const limiter = new AnonymousRefusalLimiter(2, 10_000, 1);
    const t0 = 1_000_000;
    expect(limiter.hit('a', t0).limited).toBe(false);
    expect(limiter.hit('b', t0).limited).toBe(false);
    expect(limiter.hit('c', t0).limited).toBe(false);
    expect(limiter.hit('d', t0).limited).toBe(true);
  });
});
