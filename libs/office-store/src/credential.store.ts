import type { DataSource } from 'typeorm';
import { issueToken, tokenId, tokenMatches } from '@backbone/auth';
import { sqlAffected } from '@backbone/persistence';

export type CredentialCheck =
  | { ok: true; agency: string; tokenId: string }
  | { ok: false; reason: 'malformed-credential' | 'unknown-credential' | 'revoked-credential' };

/** Per-office bearer credentials; only their hashes are stored. */
export class CredentialStore {
  constructor(private readonly ds: DataSource) {}

  /** Issues a new token for the agency; the clear token is returned once and never stored. */
  async issue(agency: string): Promise<{ tokenId: string; token: string }> {
    const t = issueToken();
    await this.ds.query('INSERT INTO office_credentials (token_id, agency, token_hash) VALUES ($1, $2, $3)', [t.id, agency, t.hash]);
    return { tokenId: t.id, token: t.token };
  }

  /** Revokes every active credential of the agency; returns how many. */
  async revoke(agency: string): Promise<number> {
    return sqlAffected(this.ds, 'UPDATE office_credentials SET revoked_at = now() WHERE agency = $1 AND revoked_at IS NULL', [agency]);
  }

  async verify(token: string): Promise<CredentialCheck> {
    const id = tokenId(token);
    if (id === null) return { ok: false, reason: 'malformed-credential' };
    const rows = (await this.ds.query('SELECT agency, token_hash, revoked_at FROM office_credentials WHERE token_id = $1', [id])) as {
      agency: string;
      token_hash: string;
      revoked_at: Date | null;
    }[];
    const row = rows[0];
    if (!row || !tokenMatches(token, row.token_hash)) return { ok: false, reason: 'unknown-credential' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked-credential' };
    return { ok: true, agency: row.agency, tokenId: id };
  }
}
