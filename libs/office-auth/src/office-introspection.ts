import { createHash } from 'node:crypto';
import { tokenId, type Verification } from '@backbone/auth';

// One way for a service to learn whether a liaison office token is valid, without reading the
// publisher's database: it asks the publisher (`POST /auth/introspect`, in the spirit of RFC
// 7662), authenticating with its own service credential, and keeps each answer for a short,
// bounded time. ADR 0007 says why this and not shared tables or signed tokens.

/** The publisher's introspection route. */
export const INTROSPECTION_PATH = '/auth/introspect';

/** Longest an answer may be cached: a revocation is seen by every service within this (plus one request). */
export const MAX_INTROSPECTION_CACHE_MS = 5000;

/** What the publisher answers; `active: false` carries the reason, never which part was wrong. */
export type IntrospectionAnswer =
  { readonly active: true; readonly agency: string; readonly tokenId: string } | { readonly active: false; readonly reason: string };

/** The office a service learned from an introspected token (a principal's details). */
export interface IntrospectedOffice {
  readonly agency: string;
  readonly tokenId: string;
}

export interface OfficeIntrospectionOptions {
  /** The publisher's base URL, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  /** This service's own credential at the publisher (one of its INTROSPECTION_CLIENTS). */
  readonly serviceToken: string;
  /** How long an answer (valid or not) is reused; at most MAX_INTROSPECTION_CACHE_MS. */
  readonly cacheMs: number;
  /** Give up on the publisher after this long (the caller is refused with 503). */
  readonly timeoutMs?: number;
}

/** The publisher could not answer (down, slow, or refusing this service's credential). */
export class IntrospectionUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntrospectionUnavailable';
  }
}

const MAX_CACHED = 10_000;

/**
 * Asks the publisher about office tokens, with a short cache keyed by the token's SHA-256 (the
 * clear token is never kept). Concurrent questions about one token share one request.
 */
export class OfficeIntrospectionClient {
  private readonly cache = new Map<string, { answer: IntrospectionAnswer; until: number }>();
  private readonly inFlight = new Map<string, Promise<IntrospectionAnswer>>();

  constructor(
    private readonly options: OfficeIntrospectionOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(options.cacheMs) || options.cacheMs < 0 || options.cacheMs > MAX_INTROSPECTION_CACHE_MS)
      throw new Error(`office introspection cache must be 0-${MAX_INTROSPECTION_CACHE_MS} ms, not ${options.cacheMs}`);
  }

  /** The revocation bound this client keeps: a revoked token is refused at most this long after revocation. */
  get revocationBoundMs(): number {
    return this.options.cacheMs + (this.options.timeoutMs ?? 3000);
  }

  async introspect(token: string): Promise<IntrospectionAnswer> {
    // A malformed token is refused here, without asking anyone.
    if (tokenId(token) === null) return { active: false, reason: 'malformed-credential' };
    const key = createHash('sha256').update(token).digest('base64url');
    const t = this.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > t) return hit.answer;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const ask = this.ask(token)
      .then((answer) => {
        if (this.cache.size >= MAX_CACHED) this.evictExpired(this.now());
        if (this.cache.size < MAX_CACHED && this.options.cacheMs > 0) this.cache.set(key, { answer, until: t + this.options.cacheMs });
        return answer;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, ask);
    return ask;
  }

  private evictExpired(t: number): void {
    for (const [k, v] of this.cache) if (v.until <= t) this.cache.delete(k);
  }

  private async ask(token: string): Promise<IntrospectionAnswer> {
    let res: Response;
    try {
      res = await fetch(new URL(INTROSPECTION_PATH, this.options.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.serviceToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 3000),
      });
    } catch (err) {
      throw new IntrospectionUnavailable(`office introspection at ${this.options.url} failed: ${(err as Error).message}`);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new IntrospectionUnavailable(`office introspection at ${this.options.url} answered HTTP ${res.status}`);
    }
    const body = (await res.json()) as Partial<{ active: boolean; agency: string; tokenId: string; reason: string }>;
    if (body.active === true && typeof body.agency === 'string' && typeof body.tokenId === 'string')
      return { active: true, agency: body.agency, tokenId: body.tokenId };
    return { active: false, reason: typeof body.reason === 'string' ? body.reason : 'unknown-credential' };
  }
}

/**
 * An office token as a verifier's answer: role `office` for an active token; 401 for any other;
 * 503-like refusal is not a guard status, so an unreachable publisher is a 401 naming why.
 */
export async function verifyOfficeToken(
  client: OfficeIntrospectionClient | null,
  token: string,
): Promise<Verification<IntrospectedOffice>> {
  if (client === null)
    return {
      ok: false,
      status: 401,
      reason: 'office-verification-not-configured',
      title: 'This service cannot verify liaison office tokens',
      detail: 'Set OFFICE_INTROSPECTION_URL and OFFICE_INTROSPECTION_TOKEN.',
    };
  let answer: IntrospectionAnswer;
  try {
    answer = await client.introspect(token);
  } catch (err) {
    if (!(err instanceof IntrospectionUnavailable)) throw err;
    return { ok: false, status: 401, reason: 'office-verification-unavailable', title: 'Liaison office tokens cannot be verified now' };
  }
  if (!answer.active) return { ok: false, status: 401, reason: answer.reason, title: 'A liaison office token is required' };
  const office: IntrospectedOffice = { agency: answer.agency, tokenId: answer.tokenId };
  return { ok: true, principal: { subject: office.agency, roles: ['office'], agency: office.agency, details: office } };
}
