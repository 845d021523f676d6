import type { DataSource } from 'typeorm';

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export type Reservation =
  | { kind: 'reserved' }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'in-progress' }
  | { kind: 'mismatch' };

/**
 * Idempotency-Key handling. The key is reserved with a unique row BEFORE publishing: the one
 * request that inserts it publishes, every concurrent or later duplicate finds the row. A
 * failed publish deletes the row, so a retry later publishes exactly once.
 */
export class IdempotencyStore {
  constructor(private readonly ds: DataSource) {}

  async reserve(agency: string, key: string, requestHash: string): Promise<Reservation> {
    const inserted = (await this.ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state) VALUES ($1, $2, $3, 'pending')
       ON CONFLICT (agency, idem_key) DO NOTHING RETURNING idem_key`,
      [agency, key, requestHash],
    )) as unknown[];
    if (inserted.length > 0) return { kind: 'reserved' };
    const rows = (await this.ds.query('SELECT request_hash, state, status_code, response FROM idempotency_keys WHERE agency = $1 AND idem_key = $2', [
      agency,
      key,
    ])) as { request_hash: string; state: string; status_code: number | null; response: unknown }[];
    const row = rows[0];
    // Released between our insert and select: the caller may simply retry.
    if (!row) return { kind: 'in-progress' };
    if (row.request_hash !== requestHash) return { kind: 'mismatch' };
    if (row.state !== 'done') return { kind: 'in-progress' };
    return { kind: 'replay', response: { statusCode: row.status_code ?? 200, body: row.response } };
  }

  async complete(agency: string, key: string, response: StoredResponse): Promise<void> {
    await this.ds.query(`UPDATE idempotency_keys SET state = 'done', status_code = $3, response = $4 WHERE agency = $1 AND idem_key = $2`, [
      agency,
      key,
      response.statusCode,
      JSON.stringify(response.body),
    ]);
  }

  async release(agency: string, key: string): Promise<void> {
    await this.ds.query(`DELETE FROM idempotency_keys WHERE agency = $1 AND idem_key = $2 AND state = 'pending'`, [agency, key]);
  }
}
