import { isIP } from 'node:net';

// Anonymous refusals (no, malformed or unknown credential) are what a flood is made of: one audit
// event each would let anyone fill the ledger. They are counted per key instead and written as one
// event per key and window, carrying the count and the first and last time.

/** What an anonymous refusal is counted by. */
export interface RefusalKey {
  readonly route: string;
  readonly reason: string;
  /** The caller's address bucket (clientBucketOf): enough to see a flood's source, not one event per address. */
  readonly client: string;
}

export interface AggregatedRefusal extends RefusalKey {
  readonly count: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
}

/** The key every refusal beyond the bound on distinct keys is counted under: counted, never lost. */
export const OVERFLOW_KEY: RefusalKey = { route: '*', reason: 'aggregate-overflow', client: '*' };

/**
 * IPv4 addresses by /24, IPv6 by /48 (an IPv4-mapped IPv6 address as IPv4): a scanner rotating
 * through its own network shows up as one key, and the ledger does not keep exact addresses of
 * anonymous callers.
 */
export function clientBucketOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const a = mapped ? mapped[1]! : address;
  if (isIP(a) === 4) return `${a.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(a) === 6) {
    const [head = '', tail = ''] = a.split('::');
    const left = head ? head.split(':') : [];
    const right = tail ? tail.split(':') : [];
    const groups = a.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
    return `${groups
      .slice(0, 3)
      .map((g) => parseInt(g || '0', 16).toString(16))
      .join(':')}::/48`;
  }
  return 'unknown';
}

/** Counts refusals per key in memory, at most `maxKeys` distinct keys (the rest under OVERFLOW_KEY). */
export class RefusalAggregator {
  private counts = new Map<string, { key: RefusalKey; count: number; firstAt: Date; lastAt: Date }>();
  private overflowed = 0;

  constructor(private readonly maxKeys: number) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer');
  }

  add(key: RefusalKey, at: Date): void {
    let k = JSON.stringify([key.route, key.reason, key.client]);
    let entry = this.counts.get(k);
    if (entry === undefined && this.counts.size >= this.maxKeys) {
      this.overflowed++;
      k = JSON.stringify([OVERFLOW_KEY.route, OVERFLOW_KEY.reason, OVERFLOW_KEY.client]);
      entry = this.counts.get(k);
      key = OVERFLOW_KEY;
    }
    if (entry === undefined) this.counts.set(k, { key, count: 1, firstAt: at, lastAt: at });
    else {
      entry.count++;
      entry.lastAt = at;
    }
  }

  /** Distinct keys held now (the overflow key included, so at most maxKeys + 1). */
  get size(): number {
    return this.counts.size;
  }

  /** Refusals counted under the overflow key since the last drain. */
  get overflowCount(): number {
    return this.overflowed;
  }

  /** Everything counted since the last drain, and starts a new window. */
  drain(): AggregatedRefusal[] {
    const out = [...this.counts.values()].map((e) => ({ ...e.key, count: e.count, firstAt: e.firstAt, lastAt: e.lastAt }));
    this.counts = new Map();
    this.overflowed = 0;
    return out;
  }
}
