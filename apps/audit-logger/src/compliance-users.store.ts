import type pg from 'pg';
import { bearerFrom, issueToken, tokenId, tokenMatches } from '@backbone/auth';
import { problem } from '@backbone/bootstrap';
import { AUDIT_SCHEMA } from './ledger.schema.js';

/** Reads the ledger (trails, agency views, exports, verify, what-if). */
export const COMPLIANCE_ROLE = 'compliance';
/** Everything COMPLIANCE_ROLE may, and replay: pushing past alerts into an agency's feed. */
export const COMPLIANCE_REPLAYER_ROLE = 'compliance-replayer';
export const COMPLIANCE_ROLES: readonly string[] = [COMPLIANCE_ROLE, COMPLIANCE_REPLAYER_ROLE];

export interface ComplianceUser {
  tokenId: string;
  name: string;
  role: string;
}

/** Issues a bearer token for a user; only its SHA-256 is stored. The token is shown once. */
export async function issueComplianceUser(pool: pg.Pool | pg.ClientBase, name: string, role = COMPLIANCE_ROLE): Promise<{ name: string; role: string; tokenId: string; token: string }> {
  if (!/^[A-Za-z0-9._@-]{1,100}$/.test(name)) throw new Error('user name: 1-100 characters of letters, digits, . _ @ -');
  const t = issueToken();
  await pool.query(`INSERT INTO ${AUDIT_SCHEMA}.compliance_users (token_id, name, role, token_hash) VALUES ($1, $2, $3, $4)`, [t.id, name, role, t.hash]);
  return { name, role, tokenId: t.id, token: t.token };
}

/**
 * 401 without a valid, unrevoked token; 403 when the holder lacks a compliance role, or asks to
 * replay without the compliance-replayer role (a read token can never push into feeds).
 */
export async function authorizeCompliance(pool: pg.Pool, authorization: string | string[] | undefined, need: 'read' | 'replay' = 'read'): Promise<ComplianceUser> {
  const token = bearerFrom(authorization);
  const id = token === null ? null : tokenId(token);
  if (token === null || id === null) throw problem(401, 'unauthenticated', 'A bearer token is required');
  const r = await pool.query<{ name: string; role: string; token_hash: string }>(
    `SELECT name, role, token_hash FROM ${AUDIT_SCHEMA}.compliance_users WHERE token_id = $1 AND revoked_at IS NULL`,
    [id],
  );
  const row = r.rows[0];
  if (!row || !tokenMatches(token, row.token_hash)) throw problem(401, 'unauthenticated', 'Unknown or revoked token');
  if (!COMPLIANCE_ROLES.includes(row.role)) throw problem(403, 'forbidden', 'The compliance role is required');
  if (need === 'replay' && row.role !== COMPLIANCE_REPLAYER_ROLE) {
    throw problem(403, 'forbidden', 'The compliance-replayer role is required', { reason: 'replay-role-required', detail: 'Replay pushes alerts into agency feeds; a read-only compliance token may not.' });
  }
  return { tokenId: id, name: row.name, role: row.role };
}
