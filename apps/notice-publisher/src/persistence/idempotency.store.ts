import type { DataSource } from 'typeorm';
import { StatementBatcher } from '@backbone/persistence';

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
  // The statements every keyed request makes: concurrent requests share one statement each (one round trip and WAL flush).
  private readonly reservations = new StatementBatcher((batch: readonly KeyReservation[]) => this.reserveBatch(batch));
  private readonly attachments = new StatementBatcher((batch: readonly KeyAttachment[]) => this.attachBatch(batch));
  private readonly answers = new StatementBatcher((batch: readonly KeyAnswer[]) => this.completeBatch(batch));

  constructor(private readonly ds: DataSource) {}

  reserve(agency: string, key: string, requestHash: string, owner?: KeyOwner): Promise<Reservation> {
    return this.reservations.call({ agency, key, requestHash, owner: owner ?? null });
  }

  private async reserveBatch(batch: readonly KeyReservation[]): Promise<Reservation[]> {
    const inserted = (await this.ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state, owner_txid, owner_boot)
       SELECT agency, idem_key, request_hash, 'pending', owner_txid, owner_boot
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::uuid[]) AS t(agency, idem_key, request_hash, owner_txid, owner_boot)
       ON CONFLICT (agency, idem_key) DO NOTHING RETURNING agency, idem_key`,
      [
        batch.map((r) => r.agency),
        batch.map((r) => r.key),
        batch.map((r) => r.requestHash),
        batch.map((r) => r.owner?.transactionalId ?? null),
        batch.map((r) => r.owner?.bootId ?? null),
      ],
    )) as { agency: string; idem_key: string }[];
    // The first request for a key in the batch is the one that inserted it; a later one finds the row, as one statement later.
    const won = new Set(inserted.map((r) => keyOf(r.agency, r.idem_key)));
    const winners = new Map<string, number>();
    batch.forEach((r, i) => {
      if (won.has(keyOf(r.agency, r.key)) && !winners.has(keyOf(r.agency, r.key))) winners.set(keyOf(r.agency, r.key), i);
    });
    const found = batch.filter((r, i) => winners.get(keyOf(r.agency, r.key)) !== i);
    const existing = new Map<string, { request_hash: string; state: string; status_code: number | null; response: unknown }>();
    if (found.length > 0) {
      const rows = (await this.ds.query(
        `SELECT k.agency, k.idem_key, k.request_hash, k.state, k.status_code, k.response
           FROM idempotency_keys k JOIN unnest($1::text[], $2::text[]) AS t(agency, idem_key) ON k.agency = t.agency AND k.idem_key = t.idem_key`,
        [found.map((r) => r.agency), found.map((r) => r.key)],
      )) as { agency: string; idem_key: string; request_hash: string; state: string; status_code: number | null; response: unknown }[];
      for (const row of rows) existing.set(keyOf(row.agency, row.idem_key), row);
    }
    return batch.map((r, i): Reservation => {
      if (winners.get(keyOf(r.agency, r.key)) === i) return { kind: 'reserved' };
      const row = existing.get(keyOf(r.agency, r.key));
      // Released between our insert and select: the caller may simply retry.
      if (!row) return { kind: 'in-progress' };
      if (row.request_hash !== r.requestHash) return { kind: 'mismatch' };
      if (row.state !== 'done') return { kind: 'in-progress' };
      return { kind: 'replay', response: { statusCode: row.status_code ?? 200, body: row.response } };
    });
  }

  complete(agency: string, key: string, response: StoredResponse): Promise<void> {
    return this.answers.call({ agency, key, response });
  }

  private async completeBatch(batch: readonly KeyAnswer[]): Promise<void[]> {
    await this.ds.query(
      `UPDATE idempotency_keys k SET state = 'done', status_code = t.status_code, response = t.response::jsonb
         FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS t(agency, idem_key, status_code, response)
        WHERE k.agency = t.agency AND k.idem_key = t.idem_key`,
      [
        batch.map((a) => a.agency),
        batch.map((a) => a.key),
        batch.map((a) => a.response.statusCode),
        batch.map((a) => JSON.stringify(a.response.body)),
      ],
    );
    return batch.map(() => undefined);
  }

  /** Names the alert version a reserved key is about to publish; written before Kafka is asked. */
  attach(agency: string, key: string, alertId: string, version: number): Promise<boolean> {
    return this.attachments.call({ agency, key, alertId, version });
  }

  private async attachBatch(batch: readonly KeyAttachment[]): Promise<boolean[]> {
    const rows = (await this.ds.query(
      `UPDATE idempotency_keys k SET alert_id = t.alert_id, alert_version = t.version
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::int[]) AS t(agency, idem_key, alert_id, version)
        WHERE k.agency = t.agency AND k.idem_key = t.idem_key AND k.state = 'pending' RETURNING k.agency, k.idem_key`,
      [batch.map((a) => a.agency), batch.map((a) => a.key), batch.map((a) => a.alertId), batch.map((a) => a.version)],
    )) as [{ agency: string; idem_key: string }[], number] | { agency: string; idem_key: string }[];
    const updated = new Set(rowsOf(rows).map((r) => keyOf(r.agency, r.idem_key)));
    // False: the reservation is gone (released as abandoned); publishing now could publish twice.
    return batch.map((a) => updated.has(keyOf(a.agency, a.key)));
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

  /**
   * Releases every key still pending on this alert version, reserved at least `olderThanMs` ago: it
   * was never published. A key a request reserved again meanwhile (after settling the old one) is
   * that request's, not the reconciler's.
   */
  async releaseFor(alertId: string, version: number, olderThanMs: number): Promise<number> {
    const rows = (await this.ds.query(
      `DELETE FROM idempotency_keys WHERE alert_id = $1 AND alert_version = $2 AND state = 'pending'
         AND created_at < now() - make_interval(secs => $3::float8 / 1000) RETURNING idem_key`,
      [alertId, version, olderThanMs],
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

interface KeyReservation {
  agency: string;
  key: string;
  requestHash: string;
  owner: KeyOwner | null;
}

interface KeyAttachment {
  agency: string;
  key: string;
  alertId: string;
  version: number;
}

interface KeyAnswer {
  agency: string;
  key: string;
  response: StoredResponse;
}

const keyOf = (agency: string, key: string): string => `${agency}\u0000${key}`;

/** The rows of an UPDATE ... RETURNING, which TypeORM's query() answers as [rows, count] on PostgreSQL. */
function rowsOf<T>(result: [T[], number] | T[]): T[] {
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}

/** TypeORM's query() answers DELETE/UPDATE ... RETURNING with [rows, count] on PostgreSQL. */
function countOf(result: [unknown[], number] | unknown[]): number {
  return result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? result[1] : result.length;
}
