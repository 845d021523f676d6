// Anonymous callers are rate-limited per source address: past `limit` anonymous refusals in a
// fixed window, the address is answered 429 until the window ends. Fixed windows keep the memory
// to one counter per address seen in the current window, and the map is bounded: addresses beyond
// `maxAddresses` share one counter (a flood from many addresses is then limited as one caller).

export type LimitDecision = { readonly limited: false } | { readonly limited: true; readonly retryAfterSeconds: number };

export class AnonymousRefusalLimiter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxAddresses = 10_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError('windowMs must be a positive integer');
  }

  /** Records one anonymous refusal from `address` at `nowMs` and says whether it is over the limit. */
  hit(address: string, nowMs: number): LimitDecision {
    if (nowMs - this.windowStart >= this.windowMs) {
      this.windowStart = nowMs - ((nowMs - this.windowStart) % this.windowMs);
      this.counts = new Map();
    }
    const key = this.counts.has(address) || this.counts.size < this.maxAddresses ? address : '*overflow*';
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n <= this.limit) return { limited: false };
    return { limited: true, retryAfterSeconds: Math.max(1, Math.ceil((this.windowStart + this.windowMs - nowMs) / 1000)) };
  }
}
