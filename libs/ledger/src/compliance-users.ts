import type pg from 'pg';
import { issueToken } from '@backbone/auth';
import { AUDIT_SCHEMA } from './ledger.schema.js';

/** Reads the ledger (verify, trails, received, export, what-if). */
export const COMPLIANCE_ROLE = 'compliance';
/** Also replays feeds: a write towards agencies, so a read token is not enough. */
export const COMPLIANCE_REPLAYER_ROLE = 'compliance-replayer';

/** A compliance user as its verified token shows it (the audit logger's credential verifier). */
export interface ComplianceUser {
  tokenId: string;
  name: string;
  role: string;
}

/** Issues a bearer token for a user; only its SHA-256 is stored. The token is shown once. */
export async function issueComplianceUser(
  pool: pg.Pool | pg.ClientBase,
  name: string,
  role = COMPLIANCE_ROLE,
): Promise<{ name: string; role: string; tokenId: string; token: string }> {
  if (!/^[A-Za-z0-9._@-]{1,100}$/.test(name)) throw new Error('user name: 1-100 characters of letters, digits, . _ @ -');
  const t = issueToken();
  await pool.query(`INSERT INTO ${AUDIT_SCHEMA}.compliance_users (token_id, name, role, token_hash) VALUES ($1, $2, $3, $4)`, [
    t.id,
    name,
    role,
    t.hash,
  ]);
  return { name, role, tokenId: t.id, token: t.token };
}
