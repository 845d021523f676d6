import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer credentials: 32 random bytes shown once to their holder; only the SHA-256 is stored.
 * A fast hash is enough here because the secret has full entropy (no dictionary to try), and
 * it keeps verification cheap on every request. The id prefix lets the server find the row
 * without scanning and lets operators recognise a leaked token in logs.
 */
export interface IssuedToken {
  /** Public id, stored in clear, e.g. `bbk_3f9a1c2d4e5b6a70`. */
  id: string;
  /** The whole secret the holder presents: `<id>.<secret>`. Never stored. */
  token: string;
  /** What is stored: hex SHA-256 of the token. */
  hash: string;
}

const TOKEN_PATTERN = /^(bbk_[0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

export function issueToken(): IssuedToken {
  const id = `bbk_${randomBytes(8).toString('hex')}`;
  const token = `${id}.${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The id part of a well-formed token, or null: malformed tokens are refused before any lookup. */
export function tokenId(token: string): string | null {
  const m = TOKEN_PATTERN.exec(token);
  return m ? m[1]! : null;
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Reads `Authorization: Bearer <token>`; anything else is null. */
export function bearerFrom(header: string | string[] | undefined): string | null {
  if (typeof header !== 'string') return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m ? m[1]! : null;
}
