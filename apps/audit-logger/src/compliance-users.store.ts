import { Inject, Injectable } from '@nestjs/common';
import { tokenId, tokenMatches, type CredentialVerifier, type Role, type Verification } from '@backbone/auth';
import { AUDIT_SCHEMA, COMPLIANCE_REPLAYER_ROLE, COMPLIANCE_ROLE, type ComplianceUser } from '@backbone/ledger';
import { AUDIT_CONTEXT, type AuditLoggerContext } from './audit-logger.context.js';

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
    if (!row || !tokenMatches(token, row.token_hash))
      return { ok: false, status: 401, reason: 'unknown-credential', title: 'Unknown or revoked token' };
    const user: ComplianceUser = { tokenId: id, name: row.name, role: row.role };
    return { ok: true, principal: { subject: row.name, roles: ROLES_OF[row.role] ?? [], agency: null, details: user } };
  }
}
