import type { DataSource } from 'typeorm';
import { issueToken, tokenId, tokenMatches } from '@backbone/auth';
import { sqlAffected, StatementBatcher } from '@backbone/persistence';

export type CredentialCheck =
  | { ok: true; agency: string; tokenId: string }
  | { ok: false; reason: 'malformed-credential' | 'unknown-credential' | 'revoked-credential' };

/** Per-office bearer credentials; only their hashes are stored. */
interface CredentialRow {
  token_id: string;
  agency: string;
  token_hash: string;
  revoked_at: Date | null;
}

export class CredentialStore {
  /** Every request is authenticated here: concurrent lookups share one query (each still made after its request arrived). */
  private readonly lookups = new StatementBatcher((ids: readonly string[]) => this.lookupBatch(ids));

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
    const row = await this.lookups.call(id);
    if (!row || !tokenMatches(token, row.token_hash)) return { ok: false, reason: 'unknown-credential' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked-credential' };
    return { ok: true, agency: row.agency, tokenId: id };
  }

  private async lookupBatch(ids: readonly string[]): Promise<(CredentialRow | undefined)[]> {
    const rows = (await this.ds.query(
      'SELECT token_id, agency, token_hash, revoked_at FROM office_credentials WHERE token_id = ANY($1::text[])',
      [[...new Set(ids)]],
    )) as CredentialRow[];
    const byId = new Map(rows.map((r) => [r.token_id, r]));
    return ids.map((id) => byId.get(id));
  }
}
