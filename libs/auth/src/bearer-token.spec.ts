import { describe, expect, it } from '@jest/globals';
import { bearerFrom, hashToken, issueToken, tokenId, tokenMatches } from './bearer-token.js';

describe('bearer tokens', () => {
  it('issues a token whose hash verifies and whose id is recoverable', () => {
    const t = issueToken();
    expect(tokenId(t.token)).toBe(t.id);
    expect(tokenMatches(t.token, t.hash)).toBe(true);
    expect(t.hash).toBe(hashToken(t.token));
    expect(t.hash).not.toContain(t.token.split('.')[1]);
  });

  it('refuses a token with one character changed', () => {
    const t = issueToken();
    const last = t.token.at(-1) === 'A' ? 'B' : 'A';
    expect(tokenMatches(t.token.slice(0, -1) + last, t.hash)).toBe(false);
  });

  it('refuses malformed tokens before any lookup', () => {
    expect(tokenId('bbk_123.abc')).toBeNull();
    expect(tokenId('')).toBeNull();
    expect(tokenId(`${issueToken().token} extra`)).toBeNull();
  });

  it('parses only Bearer authorization headers', () => {
    expect(bearerFrom('Bearer abc')).toBe('abc');
    expect(bearerFrom('bearer  abc ')).toBe('abc');
    expect(bearerFrom('Basic abc')).toBeNull();
    expect(bearerFrom(undefined)).toBeNull();
    expect(bearerFrom(['Bearer a', 'Bearer b'])).toBeNull();
  });
});
