import type { DataSource } from 'typeorm';

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

/** The process that reserves a key: its Kafka transactional.id and its boot. */
export interface KeyOwner {
  transactionalId: string;
  bootId: string;
}

export type Reservation =
  { kind: 'reserved' } | { kind: 'replay'; response: StoredResponse } | { kind: 'in-progress' } | { kind: 'mismatch' };

/**
 * Idempotency-Key handling. The key is reserved with a unique row BEFORE publishing: the one
 * request that inserts it publishes, every concurrent or later duplicate finds the row. A
 * failed publish deletes the row, so a retry later publishes exactly once.
 */
export class IdempotencyStore {
  constructor(private readonly ds: DataSource) {}

  async reserve(agency: string, key: string, requestHash: string, owner?: KeyOwner): Promise<Reservation> {
    const inserted = (await this.ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state, owner_txid, owner_boot) VALUES ($1, $2, $3, 'pending', $4, $5)
       ON CONFLICT (agency, idem_key) DO NOTHING RETURNING idem_key`,
      [agency, key, requestHash, owner?.transactionalId ?? null, owner?.bootId ?? null],
    )) as unknown[];
    if (inserted.length > 0) return { kind: 'reserved' };
    const rows = (await this.ds.query(
      'SELECT request_hash, state, status_code, response FROM idempotency_keys WHERE agency = $1 AND idem_key = $2',
      [agency, key],
    )) as { request_hash: string; state: string; status_code: number | null; response: unknown }[];
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

  /** Names the alert version a reserved key is about to publish; written before Kafka is asked. */
  async attach(agency: string, key: string, alertId: string, version: number): Promise<boolean> {
    const rows = (await this.ds.query(
      `UPDATE idempotency_keys SET alert_id = $3, alert_version = $4 WHERE agency = $1 AND idem_key = $2 AND state = 'pending' RETURNING idem_key`,
      [agency, key, alertId, version],
    )) as [unknown[], number] | unknown[];
    // False: the reservation is gone (released as abandoned); publishing now could publish twice.
    return countOf(rows) > 0;
  }

  /** The pending key's row, with its age and the process that reserved it, when it is still pending. */
  async pending(
    agency: string,
    key: string,
  ): Promise<{ alertId: string | null; version: number | null; ageMs: number; owner: KeyOwner | null } | undefined> {
    const rows = (await this.ds.query(
      `SELECT alert_id, alert_version, (extract(epoch FROM now() - created_at) * 1000)::float8 AS age_ms, owner_txid, owner_boot
         FROM idempotency_keys WHERE agency = $1 AND idem_key = $2 AND state = 'pending'`,
      [agency, key],
    )) as { alert_id: string | null; alert_version: number | null; age_ms: number; owner_txid: string | null; owner_boot: string | null }[];
    const r = rows[0];
    if (!r) return undefined;
    const owner = r.owner_txid !== null && r.owner_boot !== null ? { transactionalId: r.owner_txid, bootId: r.owner_boot } : null;
    return { alertId: r.alert_id, version: r.alert_version, ageMs: r.age_ms, owner };
  }

  /** Completes every key still pending on this alert version with the answer it would have had. */
  async completeFor(alertId: string, version: number, response: StoredResponse): Promise<number> {
    const rows = (await this.ds.query(
      `UPDATE idempotency_keys SET state = 'done', status_code = $3, response = $4
        WHERE alert_id = $1 AND alert_version = $2 AND state = 'pending' RETURNING idem_key`,
      [alertId, version, response.statusCode, JSON.stringify(response.body)],
    )) as [unknown[], number] | unknown[];
    return countOf(rows);
  }

  /** Releases every key still pending on this alert version: it was never published. */
  async releaseFor(alertId: string, version: number): Promise<number> {
    const rows = (await this.ds.query(
      `DELETE FROM idempotency_keys WHERE alert_id = $1 AND alert_version = $2 AND state = 'pending' RETURNING idem_key`,
      [alertId, version],
    )) as [unknown[], number] | unknown[];
    return countOf(rows);
  }

  /**
   * Releases keys left pending without an alert version, older than `olderThanMs`: the version is
   * attached before Kafka is asked, so such a request never published anything.
   */
  async releaseUnattached(olderThanMs: number): Promise<number> {
    const rows = (await this.ds.query(
      `DELETE FROM idempotency_keys WHERE state = 'pending' AND alert_id IS NULL AND created_at < now() - make_interval(secs => $1::float8 / 1000) RETURNING idem_key`,
      [olderThanMs],
    )) as [unknown[], number] | unknown[];
    return countOf(rows);
  }

  /**
   * Keys pending on a version that is no longer pending (recorded, or released), older than
   * `olderThanMs`: answered from the recorded version, or released when it is gone. Covers a crash
   * between recording a version and answering its key.
   */
  async settleOrphans(olderThanMs: number, only?: { agency: string; key: string }): Promise<number> {
    const params = [olderThanMs, only?.agency ?? null, only?.key ?? null];
    const scope = `k.state = 'pending' AND k.alert_id IS NOT NULL AND k.created_at < now() - make_interval(secs => $1::float8 / 1000)
      AND ($2::text IS NULL OR (k.agency = $2 AND k.idem_key = $3))`;
    const answered = (await this.ds.query(
      `UPDATE idempotency_keys k SET state = 'done', status_code = 201, response = jsonb_build_object(
         'alertId', v.alert_id, 'version', v.version, 'msgType', v.msg_type,
         'sent', to_char(v.sent AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'partition', v.partition, 'offset', v."offset"::text)
        FROM alert_versions v WHERE ${scope} AND v.alert_id = k.alert_id AND v.version = k.alert_version AND v.state = 'published'
        RETURNING k.idem_key`,
      params,
    )) as [unknown[], number] | unknown[];
    const released = (await this.ds.query(
      `DELETE FROM idempotency_keys k WHERE ${scope}
         AND NOT EXISTS (SELECT 1 FROM alert_versions v WHERE v.alert_id = k.alert_id AND v.version = k.alert_version) RETURNING k.idem_key`,
      params,
    )) as [unknown[], number] | unknown[];
    return countOf(answered) + countOf(released);
  }

  /** Forgets answered keys older than the retention; a reuse after that is a new request. */
  async expire(retentionMs: number): Promise<number> {
    const rows = (await this.ds.query(
      `DELETE FROM idempotency_keys WHERE state = 'done' AND created_at < now() - make_interval(secs => $1::float8 / 1000) RETURNING idem_key`,
      [retentionMs],
    )) as [unknown[], number] | unknown[];
    return countOf(rows);
  }

  async release(agency: string, key: string): Promise<void> {
    await this.ds.query(`DELETE FROM idempotency_keys WHERE agency = $1 AND idem_key = $2 AND state = 'pending'`, [agency, key]);
  }
}

/** TypeORM's query() answers DELETE/UPDATE ... RETURNING with [rows, count] on PostgreSQL. */
function countOf(result: [unknown[], number] | unknown[]): number {
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[1] : result.length;
}
