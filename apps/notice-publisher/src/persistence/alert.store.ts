import type { DataSource } from 'typeorm';
import type { MsgType, Region } from '@backbone/codec';
import { StatementBatcher } from '@backbone/persistence';

export type AlertState = 'active' | 'cancelled';

export interface AlertRow {
  alertId: string;
  sender: string;
  senderRegion: Region;
  noticeType: string;
  headline: string;
  state: AlertState;
  latestVersion: number;
  /** The latest version's content as the office submitted it (JSON), for Cancel. */
  content: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface VersionRow {
  version: number;
  msgType: MsgType;
  state: 'pending' | 'published';
  partition: number | null;
  offset: string | null;
  sent: Date;
}

interface RawAlert {
  alert_id: string;
  sender: string;
  sender_region: Region;
  notice_type: string;
  headline: string;
  state: AlertState;
  latest_version: number;
  content: Record<string, unknown>;
  created_at: Date;
  updated_at: Date;
}

interface Reservation {
  alertId: string;
  version: number;
  msgType: MsgType;
  sent: Date;
  record: Buffer;
}

interface CreatedOriginal {
  alertId: string;
  sender: string;
  senderRegion: Region;
  noticeType: string;
  headline: string;
  content: string;
  sent: Date;
  partition: number;
  offset: string;
}

const versionKey = (alertId: string, version: number): string => `${alertId.toLowerCase()}/${version}`;

/** A reservation left pending; `record` is the encoded Avro alert it tried to publish (null: reserved before it was kept). */
export interface PendingVersion {
  alertId: string;
  version: number;
  sent: Date;
  record: Buffer | null;
  /** From the alert's row; null for an original (version 1) that was never recorded. */
  senderRegion: Region | null;
}

function toAlert(r: RawAlert): AlertRow {
  return {
    alertId: r.alert_id,
    sender: r.sender,
    senderRegion: r.sender_region,
    noticeType: r.notice_type,
    headline: r.headline,
    state: r.state,
    latestVersion: r.latest_version,
    content: r.content,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The office's own alerts: enough to check references, ownership and report status. */
export class AlertStore {
  private readonly reservations = new StatementBatcher((batch: readonly Reservation[]) => this.reserveBatch(batch));
  private readonly originals = new StatementBatcher((batch: readonly CreatedOriginal[]) => this.recordOriginals(batch));

  constructor(private readonly ds: DataSource) {}

  async find(alertId: string): Promise<AlertRow | undefined> {
    const rows = (await this.ds.query('SELECT * FROM alerts WHERE alert_id = $1', [alertId])) as RawAlert[];
    return rows[0] ? toAlert(rows[0]) : undefined;
  }

  async versions(alertId: string): Promise<VersionRow[]> {
    const rows = (await this.ds.query(
      'SELECT version, msg_type, state, partition, "offset", sent FROM alert_versions WHERE alert_id = $1 ORDER BY version',
      [alertId],
    )) as {
      version: number;
      msg_type: MsgType;
      state: 'pending' | 'published';
      partition: number | null;
      offset: string | null;
      sent: Date;
    }[];
    return rows.map((r) => ({
      version: r.version,
      msgType: r.msg_type,
      state: r.state,
      partition: r.partition,
      offset: r.offset,
      sent: r.sent,
    }));
  }

  async list(sender: string, limit: number, offset: number): Promise<{ items: AlertRow[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.ds.query('SELECT * FROM alerts WHERE sender = $1 ORDER BY created_at DESC, alert_id LIMIT $2 OFFSET $3', [
        sender,
        limit,
        offset,
      ]) as Promise<RawAlert[]>,
      this.ds.query('SELECT count(*)::int AS n FROM alerts WHERE sender = $1', [sender]) as Promise<{ n: number }[]>,
    ]);
    return { items: rows.map(toAlert), total: count[0]?.n ?? 0 };
  }

  /**
   * Reserves version `version` of an alert before publishing it. False when another request holds
   * or has published that version (a concurrent update). Concurrent reservations share one
   * multi-row INSERT (one round trip and one WAL flush for the batch).
   */
  reserveVersion(alertId: string, version: number, msgType: MsgType, sent: Date, record: Buffer): Promise<boolean> {
    return this.reservations.call({ alertId, version, msgType, sent, record });
  }

  private async reserveBatch(batch: readonly Reservation[]): Promise<boolean[]> {
    // The first request for a version wins; a later one in the same batch finds it taken, as it would one statement later.
    const first = new Map<string, number>();
    batch.forEach((r, i) => {
      if (!first.has(versionKey(r.alertId, r.version))) first.set(versionKey(r.alertId, r.version), i);
    });
    const rows = [...first.values()].map((i) => batch[i]!);
    // The encoded record is kept until the version is recorded, so the reconciler can complete it.
    const inserted = (await this.ds.query(
      `INSERT INTO alert_versions (alert_id, version, msg_type, state, sent, record)
       SELECT alert_id, version, msg_type, 'pending', sent, record FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::bytea[])
         AS t(alert_id, version, msg_type, sent, record)
       ON CONFLICT (alert_id, version) DO NOTHING RETURNING alert_id, version`,
      [
        rows.map((r) => r.alertId),
        rows.map((r) => r.version),
        rows.map((r) => r.msgType),
        rows.map((r) => r.sent),
        rows.map((r) => r.record),
      ],
    )) as { alert_id: string; version: number }[];
    const won = new Set(inserted.map((r) => versionKey(r.alert_id, r.version)));
    return batch.map((r, i) => first.get(versionKey(r.alertId, r.version)) === i && won.has(versionKey(r.alertId, r.version)));
  }

  /**
   * Deletes a pending reservation. `olderThanMs` (the reconciler): only one reserved at least that
   * long ago, the one it probed Kafka for; a request may have settled that one and reserved the
   * version again meanwhile, and its fresh reservation is not the reconciler's to release.
   */
  async releaseVersion(alertId: string, version: number, olderThanMs?: number): Promise<void> {
    await this.ds.query(
      `DELETE FROM alert_versions WHERE alert_id = $1 AND version = $2 AND state = 'pending'
         AND ($3::float8 IS NULL OR reserved_at < now() - make_interval(secs => $3::float8 / 1000))`,
      [alertId, version, olderThanMs ?? null],
    );
  }

  /** Whether (alertId, version) is reserved and not yet recorded, and for how long. */
  async pendingVersion(alertId: string, version: number): Promise<{ ageMs: number } | undefined> {
    const rows = (await this.ds.query(
      `SELECT (extract(epoch FROM now() - reserved_at) * 1000)::float8 AS age_ms FROM alert_versions WHERE alert_id = $1 AND version = $2 AND state = 'pending'`,
      [alertId, version],
    )) as { age_ms: number }[];
    return rows[0] ? { ageMs: rows[0].age_ms } : undefined;
  }

  /** Reservations older than `olderThanMs` still pending: a crash or a failed write left them. */
  async pendingVersions(olderThanMs: number, limit: number, only?: { alertId: string; version: number }): Promise<PendingVersion[]> {
    const rows = (await this.ds.query(
      `SELECT v.alert_id, v.version, v.sent, v.record, a.sender_region FROM alert_versions v LEFT JOIN alerts a ON a.alert_id = v.alert_id
        WHERE v.state = 'pending' AND v.reserved_at < now() - make_interval(secs => $1::float8 / 1000)
          AND ($3::uuid IS NULL OR (v.alert_id = $3::uuid AND v.version = $4::int))
        ORDER BY v.reserved_at LIMIT $2`,
      [olderThanMs, limit, only?.alertId ?? null, only?.version ?? null],
    )) as { alert_id: string; version: number; sent: Date; record: Buffer | null; sender_region: Region | null }[];
    return rows.map((r) => ({ alertId: r.alert_id, version: r.version, sent: r.sent, record: r.record, senderRegion: r.sender_region }));
  }

  /**
   * Records a published original: the alert row and its version 1, in one statement. `content` is
   * JSON text. Concurrent calls share one statement (one round trip and one WAL flush).
   */
  recordCreated(
    a: Omit<AlertRow, 'createdAt' | 'updatedAt' | 'state' | 'latestVersion' | 'content'> & { content: string },
    sent: Date,
    partition: number,
    offset: string,
  ): Promise<void> {
    return this.originals.call({ ...a, sent, partition, offset });
  }

  private async recordOriginals(batch: readonly CreatedOriginal[]): Promise<void[]> {
    // Idempotent: the request and the reconciler may both record the same committed version (once per batch: ON CONFLICT DO UPDATE may touch a row once).
    const rows = [...new Map(batch.map((r) => [r.alertId, r])).values()];
    const col = <K extends keyof CreatedOriginal>(k: K): CreatedOriginal[K][] => rows.map((r) => r[k]);
    await this.ds.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::bigint[], $9::timestamptz[])
           AS t(alert_id, sender, sender_region, notice_type, headline, content, partition, "offset", sent)
       ), alert_rows AS (
         INSERT INTO alerts (alert_id, sender, sender_region, notice_type, headline, state, latest_version, content)
         SELECT alert_id, sender, sender_region, notice_type, headline, 'active', 1, content::jsonb FROM input
         ON CONFLICT (alert_id) DO NOTHING
       )
       INSERT INTO alert_versions (alert_id, version, msg_type, state, partition, "offset", sent)
       SELECT alert_id, 1, 'Alert', 'published', partition, "offset", sent FROM input
       ON CONFLICT (alert_id, version) DO UPDATE SET state = 'published', partition = EXCLUDED.partition, "offset" = EXCLUDED."offset", record = NULL`,
      [
        col('alertId'),
        col('sender'),
        col('senderRegion'),
        col('noticeType'),
        col('headline'),
        col('content'),
        col('partition'),
        col('offset'),
        col('sent'),
      ],
    );
    return batch.map(() => undefined);
  }

  /** Records a published Update or Cancel of a reserved version. `content` is JSON text. */
  async recordVersion(
    alertId: string,
    version: number,
    msgType: MsgType,
    content: string,
    noticeType: string,
    headline: string,
    partition: number,
    offset: string,
  ): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.query(
        `UPDATE alert_versions SET state = 'published', partition = $3, "offset" = $4, record = NULL WHERE alert_id = $1 AND version = $2`,
        [alertId, version, partition, offset],
      );
      await m.query(
        `UPDATE alerts SET latest_version = $2, state = $3, content = $4, notice_type = $5, headline = $6, updated_at = now()
         WHERE alert_id = $1 AND latest_version < $2`,
        [alertId, version, msgType === 'Cancel' ? 'cancelled' : 'active', content, noticeType, headline],
      );
    });
  }
}
