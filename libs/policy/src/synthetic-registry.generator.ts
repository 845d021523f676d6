import { REGIONS, type Region } from '@backbone/codec';
import { EU_COUNTRIES, ISO_3166_ALPHA2, SCHENGEN_COUNTRIES } from './iso-countries.data.js';
import type { Agency, DeathPenaltyStatus, Membership, Registry } from './registry.types.js';

// A deterministic registry of any size for benchmarks and property tests. The same (n, seed)
// always gives the same registry. Countries are real ISO codes and codes are `<CC>-NCB`, so the
// shipped policy (which names FR-NCB, US-NCB, ...) applies to it; EU and Schengen countries get
// their real memberships, everything else is drawn from the seeded generator.

/** Countries of the shipped registry come first, so the shipped policy's rules find their agencies. */
const PINNED = ['FR', 'DE', 'NL', 'IT', 'NO', 'GB', 'UA', 'US', 'CA', 'BR', 'AR', 'JP', 'AU', 'SG', 'ZA', 'NG', 'KE', 'MA', 'JO', 'AE'];
const JOINED_FOUNDER = new Date('2000-01-01T00:00:00.000Z');

/** mulberry32: tiny, fast, good enough to spread attributes; not for anything secret. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` agencies (196 = INTERPOL's membership) spread over regions, memberships, statuses. */
export function syntheticRegistry(n = 196, seed = 196): Registry {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`syntheticRegistry: n must be a positive integer, got ${n}`);
  const random = prng(seed);
  // EU and Schengen countries always make it in, so membership-based rules have their area.
  const european = [...new Set([...EU_COUNTRIES, ...SCHENGEN_COUNTRIES])].filter((country) => !PINNED.includes(country));
  const rest = ISO_3166_ALPHA2.filter((country) => !PINNED.includes(country) && !european.includes(country));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  const countries = [...PINNED, ...european, ...rest];
  const agencies: Agency[] = [];
  for (let i = 0; i < n; i++) {
    // Past 249 countries, further agencies share a country (as a second national agency would).
    const country = countries[i % countries.length]!;
    const round = Math.floor(i / countries.length);
    agencies.push(syntheticAgency(round === 0 ? `${country}-NCB` : `${country}-A${round}`, country, random));
  }
  return { version: `synthetic-${n}-${seed}`, source: `synthetic:${n}:${seed}`, agencies };
}

function syntheticAgency(code: string, country: string, random: () => number): Agency {
  const memberships: Membership[] = [];
  if (EU_COUNTRIES.includes(country)) memberships.push('EU');
  if (SCHENGEN_COUNTRIES.includes(country)) memberships.push('SCHENGEN');
  const european = memberships.length > 0;
  const region: Region = european ? 'EUROPE' : REGIONS[Math.floor(random() * REGIONS.length)]!;
  const deathRoll = random();
  const deathPenalty: DeathPenaltyStatus =
    european || deathRoll < 0.55 ? 'abolitionist' : deathRoll < 0.75 ? 'abolitionist_in_practice' : 'retentionist';
  const joined =
    random() < 0.9
      ? JOINED_FOUNDER
      : new Date(Date.UTC(2020 + Math.floor(random() * 7), Math.floor(random() * 12), 1 + Math.floor(random() * 28)));
  return {
    code,
    name: `Synthetic bureau ${code}`,
    country,
    region,
    memberships,
    agreements: !european && random() < 0.3 ? ['EU_OPERATIONAL'] : [],
    adequacy: european || random() < 0.2,
    deathPenalty,
    victimSupport: random() < 0.5,
    joined,
  };
}
