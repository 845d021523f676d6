import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';
import { issueToken, tokenId, tokenMatches, type CredentialVerifier, type Role, type Verification } from '@backbone/auth';
import { AUDIT_CONTEXT, type AuditLoggerContext, type ComplianceUser } from './audit-logger.context.js';
import { AUDIT_SCHEMA } from './ledger.schema.js';

/** Reads the ledger (verify, trails, received, export, what-if). */
export const COMPLIANCE_ROLE = 'compliance';
/** Also replays feeds: a write towards agencies, so a read token is not enough. */
export const COMPLIANCE_REPLAYER_ROLE = 'compliance-replayer';

export type { ComplianceUser } from './audit-logger.context.js';

/** Issues a bearer token for a user; only its SHA-256 is stored. The token is shown once. */
export async function issueComplianceUser(pool: pg.Pool | pg.ClientBase, name: string, role = COMPLIANCE_ROLE): Promise<{ name: string; role: string; tokenId: string; token: string }> {
  if (!/^[A-Za-z0-9._@-]{1,100}$/.test(name)) throw new Error('user name: 1-100 characters of letters, digits, . _ @ -');
  const t = issueToken();
  await pool.query(`INSERT INTO ${AUDIT_SCHEMA}.compliance_users (token_id, name, role, token_hash) VALUES ($1, $2, $3, $4)`, [t.id, name, role, t.hash]);
  return { name, role, tokenId: t.id, token: t.token };
}

/** What each stored role may do on the compliance API: a replayer also reads; any other role gets nothing (403). */
const ROLES_OF: Readonly<Record<string, readonly Role[]>> = {
  [COMPLIANCE_ROLE]: ['compliance-reader'],
  [COMPLIANCE_REPLAYER_ROLE]: ['compliance-reader', 'compliance-replayer'],
};

/** The audit logger's credential port: a compliance user's bearer token → its roles (401 unknown or revoked). */
@Injectable()
export class ComplianceCredentialVerifier implements CredentialVerifier {
  constructor(@Inject(AUDIT_CONTEXT) private readonly ctx: AuditLoggerContext) {}

  async verify(token: string): Promise<Verification<ComplianceUser>> {
    const id = tokenId(token);
    if (id === null) return { ok: false, status: 401, reason: 'malformed-credential', title: 'A bearer token is required' };
    const r = await this.ctx.pool.query<{ name: string; role: string; token_hash: string }>(
      `SELECT name, role, token_hash FROM ${AUDIT_SCHEMA}.compliance_users WHERE token_id = $1 AND revoked_at IS NULL`,
      [id],
    );
    const row = r.rows[0];
    if (!row || !tokenMatches(token, row.token_hash)) return { ok: false, status: 401, reason: 'unknown-credential', title: 'Unknown or revoked token' };
    const user: ComplianceUser = { tokenId: id, name: row.name, role: row.role };
    return { ok: true, principal: { subject: row.name, roles: ROLES_OF[row.role] ?? [], agency: null, details: user } };
  }
}
