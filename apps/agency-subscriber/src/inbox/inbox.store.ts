import type { DataSource } from 'typeorm';
import type { Alert, AuditEvent, Delivery, EventSigningKey, MsgType } from '@backbone/codec';
import { queueAuditEvent, queueAuditEvents } from '../audit/audit.outbox.js';
import { filterConditions, type DeskFilter, type Desk } from '@backbone/inbox-store';
import type { AlertState, FeedEvent, InboxDetail, InboxItem, InboxPage, InboxQuery, InboxVersion, StoreOutcome } from './inbox.types.js';

interface AlertRow {
  alert_id: string;
  version: number;
  msg_type: MsgType;
  state: AlertState;
  sender: string;
  sender_region: string;
  notice_type: string;
  urgency: string;
  severity: string;
  tlp: string;
  status: string;
  sent: Date;
  expires: Date | null;
  headline: string | null;
  description: string | null;
  content: Record<string, unknown> | null;
  execution_flags: string[];
  no_reshare: boolean;
  redacted_groups: string[];
  first_received_at: Date;
  updated_at: Date;
  last_seq: string;
  ack_version: number | null;
  acked_at: Date | null;
}

interface VersionRow {
  alert_id: string;
  version: number;
  seq: string;
  delivery_id: string;
  msg_type: MsgType;
  sender_region: string;
  notice_type: string;
  urgency: string;
  severity: string;
  tlp: string;
  headline: string | null;
  description: string | null;
  content: Record<string, unknown> | null;
  execution_flags: string[];
  no_reshare: boolean;
  redacted_groups: string[];
  policy_version: string;
  rule_id: string;
  outcome: string;
  recall: boolean;
  replay: boolean;
  decided_at: Date;
  received_at: Date;
  state: AlertState;
}

export type PurgeReason = 'EXPIRED' | 'RETENTION_PERIOD';

export interface PurgeResult {
  purged: { alertId: string; version: number; reason: PurgeReason }[];
}

export type AckOutcome = { found: false } | { found: true; alertId: string; version: number; at: string; newlyAcknowledged: boolean };

const PAGE_MAX = 200;

/** One delivered version and its decoded alert, as the feed consumer hands them to the store. */
export interface DeliveredVersion {
  delivery: Delivery;
  alert: Alert;
}

/** An alert's row while a batch is applied: its state, and what the batch writes (the last effect wins). */
interface AlertHead {
  version: number;
  state: AlertState;
  write: 'insert' | 'update' | null;
  row: Record<string, unknown> | null;
}

/** Columns a batch writes, with their types for jsonb_to_recordset (one JSON document a statement). */
const VERSION_COLUMNS = [
  ['alert_id', 'uuid'],
  ['version', 'int'],
  ['seq', 'bigint'],
  ['delivery_id', 'uuid'],
  ['msg_type', 'text'],
  ['sender_region', 'text'],
  ['notice_type', 'text'],
  ['urgency', 'text'],
  ['severity', 'text'],
  ['tlp', 'text'],
  ['headline', 'text'],
  ['description', 'text'],
  ['content', 'jsonb'],
  ['execution_flags', 'text[]'],
  ['no_reshare', 'boolean'],
  ['redacted_groups', 'text[]'],
  ['policy_version', 'text'],
  ['rule_id', 'text'],
  ['outcome', 'text'],
  ['recall', 'boolean'],
  ['replay', 'boolean'],
  ['decided_at', 'timestamptz'],
] as const;

const ALERT_COLUMNS = [
  ['alert_id', 'uuid'],
  ['version', 'int'],
  ['msg_type', 'text'],
  ['state', 'text'],
  ['sender', 'text'],
  ['sender_region', 'text'],
  ['notice_type', 'text'],
  ['urgency', 'text'],
  ['severity', 'text'],
  ['tlp', 'text'],
  ['status', 'text'],
  ['sent', 'timestamptz'],
  ['expires', 'timestamptz'],
  ['headline', 'text'],
  ['description', 'text'],
  ['content', 'jsonb'],
  ['execution_flags', 'text[]'],
  ['no_reshare', 'boolean'],
  ['redacted_groups', 'text[]'],
  ['last_seq', 'bigint'],
] as const;

function columnTypes(columns: readonly (readonly [string, string])[]): string {
  return columns.map(([c, t]) => `${c} ${t}`).join(', ');
}

/**
 * The agency's inbox in PostgreSQL: exactly-once storage of deliveries, desk queries, the feed
 * log behind SSE, acknowledgements and the retention purge. Every method runs in the agency schema.
 */
export class InboxStore {
  constructor(
    private readonly db: DataSource,
    private readonly agency: string,
    /** LISTEN/NOTIFY channel on which new inbox sequence numbers are announced after commit. */
    readonly channel: string,
    /** This agency's subscriber event key: signs the DELIVERED, ACKNOWLEDGED and PURGED events. */
    private readonly eventSigner: EventSigningKey | null = null,
  ) {}

  /** Stores one delivered version exactly once: storeDeliveries with a single item. */
  async storeDelivery(delivery: Delivery, alert: Alert): Promise<StoreOutcome> {
    return (await this.storeDeliveries([{ delivery, alert }]))[0]!;
  }

  /**
   * Stores delivered versions in one transaction, with exactly the effect of storing them one by
   * one in the given order (the feed's order). (alert_id, version) is the key: a redelivery or a
   * ledger replay of a version already here, or a second copy in the same batch, changes nothing
   * and emits nothing. Writers are serialised by a transaction-scoped advisory lock so inbox
   * sequence numbers become visible in order; the SSE hand-off relies on that (seeing seq N means
   * every seq below N is visible too). The batch costs a fixed number of round trips, whatever its
   * size: the feed consumer stores a whole fetched batch here instead of one transaction a record.
   * Any failure rolls the whole batch back (the caller then isolates the record that caused it).
   */
  async storeDeliveries(items: readonly DeliveredVersion[]): Promise<StoreOutcome[]> {
    const outcomes: (StoreOutcome | undefined)[] = items.map(({ delivery }) =>
      delivery.recipient === this.agency ? undefined : ({ stored: false, reason: 'WRONG_RECIPIENT' } as const),
    );
    if (outcomes.every((o) => o !== undefined)) return outcomes as StoreOutcome[];
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':inbox-writer'))`);
      const mine = items.flatMap((item, i) => (outcomes[i] === undefined ? [{ ...item, i }] : []));
      const alertIds = [...new Set(mine.map((m) => m.delivery.alertId))];
      // The alerts these versions belong to, locked, and which of the versions are already here.
      const heads = new Map<string, AlertHead>();
      for (const r of (await tx.query(`SELECT alert_id, version, state FROM alerts WHERE alert_id = ANY($1::uuid[]) FOR UPDATE`, [
        alertIds,
      ])) as { alert_id: string; version: number; state: AlertState }[]) {
        heads.set(r.alert_id, { version: r.version, state: r.state, write: null, row: null });
      }
      const present = new Set(
        (
          (await tx.query(
            `SELECT v.alert_id, v.version FROM alert_versions v
               JOIN unnest($1::uuid[], $2::int[]) AS k(alert_id, version) ON v.alert_id = k.alert_id AND v.version = k.version`,
            [mine.map((m) => m.delivery.alertId), mine.map((m) => m.delivery.alertVersion)],
          )) as { alert_id: string; version: number }[]
        ).map((r) => `${r.alert_id}/${r.version}`),
      );
      const fresh = mine.filter((m) => {
        const key = `${m.delivery.alertId}/${m.delivery.alertVersion}`;
        if (present.has(key)) {
          outcomes[m.i] = { stored: false, reason: 'DUPLICATE' };
          return false;
        }
        present.add(key);
        return true;
      });
      if (fresh.length === 0) return outcomes as StoreOutcome[];
      // Sequence numbers for the new versions only (a gap after a duplicate is fine: readers only
      // ever ask for "after the last id seen"), handed out in feed order.
      const seqs = (
        (await tx.query(`SELECT nextval('inbox_seq') AS seq FROM generate_series(1, $1::int)`, [fresh.length])) as { seq: string }[]
      )
        .map((r) => Number(r.seq))
        .sort((a, b) => a - b);

      const versionRows: Record<string, unknown>[] = [];
      const delivered: Partial<Omit<AuditEvent, 'type' | 'service'>>[] = [];
      const cancelled = new Set<string>();
      fresh.forEach(({ delivery, alert, i }, n) => {
        const seq = seqs[n]!;
        const current = heads.get(delivery.alertId);
        const isCancel = delivery.msgType === 'Cancel';
        // Content is kept only while the alert is live: a Cancel removes it, and nothing resurrects
        // a cancelled or purged alert's content.
        const keepContent = !isCancel && (current === undefined || current.state === 'ACTIVE');
        const headline = keepContent ? alert.headline : null;
        const description = keepContent ? alert.description : null;
        // The decoded (already redacted) alert, serialised to JSON with the batch: exactly what arrived, nothing added.
        const content: Alert | null = keepContent ? alert : null;
        versionRows.push({
          alert_id: delivery.alertId,
          version: delivery.alertVersion,
          seq,
          delivery_id: delivery.deliveryId,
          msg_type: delivery.msgType,
          sender_region: alert.senderRegion,
          notice_type: alert.noticeType,
          urgency: alert.urgency,
          severity: alert.severity,
          tlp: alert.tlp,
          headline,
          description,
          content,
          execution_flags: delivery.executionFlags,
          no_reshare: delivery.noReshare,
          redacted_groups: delivery.redactedGroups,
          policy_version: delivery.policyVersion,
          rule_id: delivery.ruleId,
          outcome: delivery.outcome,
          recall: delivery.recall,
          replay: delivery.replay,
          decided_at: delivery.decidedAt.toISOString(),
        });
        const visible = {
          alert_id: delivery.alertId,
          version: delivery.alertVersion,
          msg_type: delivery.msgType,
          state: (isCancel ? 'CANCELLED' : 'ACTIVE') as AlertState,
          sender: alert.sender,
          sender_region: alert.senderRegion,
          notice_type: alert.noticeType,
          urgency: alert.urgency,
          severity: alert.severity,
          tlp: alert.tlp,
          status: alert.status,
          sent: alert.sent.toISOString(),
          expires: alert.expires ? alert.expires.toISOString() : null,
          headline,
          description,
          content,
          execution_flags: delivery.executionFlags,
          no_reshare: delivery.noReshare,
          redacted_groups: delivery.redactedGroups,
          last_seq: seq,
        };
        let effect: 'NEW' | 'UPDATED' | 'CANCELLED' | 'HISTORY_ONLY';
        if (current === undefined) {
          heads.set(delivery.alertId, { version: visible.version, state: visible.state, write: 'insert', row: visible });
          effect = isCancel ? 'CANCELLED' : 'NEW';
        } else if (current.state === 'ACTIVE' && (isCancel || delivery.alertVersion > current.version)) {
          // An update replaces the visible version (history stays in alert_versions); a cancel of
          // any version ends the alert (and empties every version's content). An older version
          // arriving late only joins the history.
          current.version = Math.max(current.version, delivery.alertVersion);
          current.state = visible.state;
          current.row = { ...visible, version: current.version };
          current.write ??= 'update';
          if (isCancel) cancelled.add(delivery.alertId);
          effect = isCancel ? 'CANCELLED' : 'UPDATED';
        } else {
          effect = 'HISTORY_ONLY';
        }
        delivered.push({
          actor: this.agency,
          agency: this.agency,
          alertId: delivery.alertId,
          alertVersion: delivery.alertVersion,
          originator: alert.sender,
          noticeType: alert.noticeType,
          policyVersion: delivery.policyVersion,
          details: {
            deliveryId: delivery.deliveryId,
            msgType: delivery.msgType,
            inboxSeq: String(seq),
            effect,
            recall: String(delivery.recall),
            replay: String(delivery.replay),
          },
        });
        outcomes[i] = { stored: true, seq, effect };
      });

      await tx.query(
        `INSERT INTO alert_versions (${VERSION_COLUMNS.map(([c]) => c).join(', ')})
         SELECT ${VERSION_COLUMNS.map(([c]) => c).join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${columnTypes(VERSION_COLUMNS)})`,
        [JSON.stringify(versionRows)],
      );
      const written = [...heads.values()];
      const inserts = written.flatMap((h) => (h.write === 'insert' ? [h.row] : []));
      const updates = written.flatMap((h) => (h.write === 'update' ? [h.row] : []));
      if (inserts.length > 0) {
        await tx.query(
          `INSERT INTO alerts (${ALERT_COLUMNS.map(([c]) => c).join(', ')})
           SELECT ${ALERT_COLUMNS.map(([c]) => c).join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${columnTypes(ALERT_COLUMNS)})`,
          [JSON.stringify(inserts)],
        );
      }
      if (updates.length > 0) {
        await tx.query(
          `UPDATE alerts a SET ${ALERT_COLUMNS.filter(([c]) => c !== 'alert_id')
            .map(([c]) => `${c} = x.${c}`)
            .join(', ')}, updated_at = now()
           FROM jsonb_to_recordset($1::jsonb) AS x(${columnTypes(ALERT_COLUMNS)}) WHERE a.alert_id = x.alert_id`,
          [JSON.stringify(updates)],
        );
      }
      if (cancelled.size > 0) {
        await tx.query(`UPDATE alert_versions SET headline = NULL, description = NULL, content = NULL WHERE alert_id = ANY($1::uuid[])`, [
          [...cancelled],
        ]);
      }
      await queueAuditEvents(tx, this.eventSigner, 'DELIVERED', delivered);
      // One notification for the batch: listeners re-read everything after the last seq they sent.
      await tx.query(`SELECT pg_notify($1, $2)`, [this.channel, String(seqs[seqs.length - 1])]);
      return outcomes as StoreOutcome[];
    });
  }

  /** A desk's view of the inbox, newest activity first, keyset-paginated on the inbox sequence. */
  async list(desk: Desk, query: InboxQuery): Promise<InboxPage> {
    const params: unknown[] = [desk.deskId];
    const where = [`a.state <> 'PURGED'`, ...filterConditions(desk.filter, 'a', params)];
    if (query.q) {
      params.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(a.headline ILIKE $${params.length} OR a.description ILIKE $${params.length})`);
    }
    if (query.noticeType) {
      params.push(query.noticeType);
      where.push(`a.notice_type = $${params.length}`);
    }
    if (query.since) {
      params.push(query.since);
      where.push(`a.updated_at >= $${params.length}`);
    }
    if (query.cursor) {
      params.push(decodeCursor(query.cursor));
      where.push(`a.last_seq < $${params.length}`);
    }
    const limit = Math.min(Math.max(query.limit, 1), PAGE_MAX);
    params.push(limit + 1);
    const rows = (await this.db.query(
      `SELECT a.*, k.version AS ack_version, k.acked_at FROM alerts a
         LEFT JOIN acks k ON k.alert_id = a.alert_id AND k.desk_id = $1
       WHERE ${where.join(' AND ')} ORDER BY a.last_seq DESC LIMIT $${params.length}`,
      params,
    )) as AlertRow[];
    const page = rows.slice(0, limit).map(toItem);
    const last = page[page.length - 1];
    return { items: page, nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null };
  }

  /** One alert if the desk may see it; `tombstone` when it was purged. */
  async get(
    desk: Desk,
    alertId: string,
  ): Promise<{ detail: InboxDetail } | { tombstone: { alertId: string; version: number; purgedAt: string; reason: string } } | null> {
    const params: unknown[] = [desk.deskId, alertId];
    const conditions = filterConditions(desk.filter, 'a', params);
    const rows = (await this.db.query(
      `SELECT a.*, k.version AS ack_version, k.acked_at FROM alerts a
         LEFT JOIN acks k ON k.alert_id = a.alert_id AND k.desk_id = $1
       WHERE a.alert_id = $2 ${conditions.map((c) => `AND ${c}`).join(' ')}`,
      params,
    )) as AlertRow[];
    const row = rows[0];
    if (!row) return null;
    if (row.state === 'PURGED') {
      const t = (
        (await this.db.query(`SELECT * FROM tombstones WHERE alert_id = $1`, [alertId])) as {
          alert_id: string;
          version: number;
          purged_at: Date;
          reason: string;
        }[]
      )[0];
      return {
        tombstone: {
          alertId,
          version: t?.version ?? row.version,
          purgedAt: (t?.purged_at ?? row.updated_at).toISOString(),
          reason: t?.reason ?? 'UNKNOWN',
        },
      };
    }
    // The same filter the stream applies per version: a desk never sees a version it excludes.
    const versionParams: unknown[] = [alertId];
    const versionConditions = filterConditions(desk.filter, 'v', versionParams);
    const versions = (await this.db.query(
      `SELECT v.* FROM alert_versions v WHERE v.alert_id = $1 ${versionConditions.map((c) => `AND ${c}`).join(' ')} ORDER BY v.version`,
      versionParams,
    )) as VersionRow[];
    return { detail: { ...toItem(row), alert: row.content, versions: versions.map(toVersion) } };
  }

  /**
   * Acknowledges the visible version for the desk. Idempotent: acknowledging the same version again
   * changes nothing and emits no second audit event; acknowledging after an update records the newer version.
   */
  async acknowledge(desk: Desk, alertId: string): Promise<AckOutcome> {
    return this.db.transaction(async (tx) => {
      const params: unknown[] = [alertId];
      const conditions = filterConditions(desk.filter, 'a', params);
      const alert = (
        (await tx.query(
          `SELECT a.alert_id, a.version, a.sender, a.notice_type FROM alerts a WHERE a.alert_id = $1 AND a.state <> 'PURGED' ${conditions.map((c) => `AND ${c}`).join(' ')}`,
          params,
        )) as { alert_id: string; version: number; sender: string; notice_type: string }[]
      )[0];
      if (!alert) return { found: false } as const;
      const inserted = (await tx.query(
        `INSERT INTO acks (alert_id, desk_id, version) VALUES ($1, $2, $3)
         ON CONFLICT (alert_id, desk_id) DO UPDATE SET version = EXCLUDED.version, acked_at = now() WHERE acks.version < EXCLUDED.version
         RETURNING version, acked_at`,
        [alertId, desk.deskId, alert.version],
      )) as { version: number; acked_at: Date }[];
      if (inserted[0]) {
        await queueAuditEvent(tx, this.eventSigner, 'ACKNOWLEDGED', {
          actor: `${this.agency}/${desk.name}`,
          agency: this.agency,
          alertId,
          alertVersion: alert.version,
          originator: alert.sender,
          noticeType: alert.notice_type,
          details: { desk: desk.name, deskId: desk.deskId },
        });
        return {
          found: true,
          alertId,
          version: inserted[0].version,
          at: new Date(inserted[0].acked_at).toISOString(),
          newlyAcknowledged: true,
        } as const;
      }
      const existing = (
        (await tx.query(`SELECT version, acked_at FROM acks WHERE alert_id = $1 AND desk_id = $2`, [alertId, desk.deskId])) as {
          version: number;
          acked_at: Date;
        }[]
      )[0]!;
      return {
        found: true,
        alertId,
        version: existing.version,
        at: new Date(existing.acked_at).toISOString(),
        newlyAcknowledged: false,
      } as const;
    });
  }

  /** Feed entries after `afterSeq` that the desk's filter matches, oldest first. */
  async feedAfter(filter: DeskFilter, afterSeq: number, limit = 500): Promise<FeedEvent[]> {
    const params: unknown[] = [afterSeq];
    const conditions = filterConditions(filter, 'v', params);
    params.push(limit);
    const rows = (await this.db.query(
      `SELECT v.*, a.state FROM alert_versions v JOIN alerts a ON a.alert_id = v.alert_id
       WHERE v.seq > $1 ${conditions.map((c) => `AND ${c}`).join(' ')} ORDER BY v.seq LIMIT $${params.length}`,
      params,
    )) as VersionRow[];
    return rows.map(toFeedEvent);
  }

  /** The highest inbox sequence number stored so far (0 when empty). */
  async headSeq(): Promise<number> {
    const rows = (await this.db.query(`SELECT COALESCE(MAX(seq), 0) AS head FROM alert_versions`)) as { head: string }[];
    return Number(rows[0]!.head);
  }

  /**
   * Removes the content of alerts that expired or are older than the retention period, leaving a
   * tombstone (alertId, version, purgedAt, reason) and the content-free version rows (which keep
   * redeliveries of a purged version from coming back).
   */
  async purge(now: Date, retentionDays: number, batchSize = 500): Promise<PurgeResult> {
    const purged: PurgeResult['purged'] = [];
    const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
    for (;;) {
      const batch = await this.db.transaction(async (tx) => {
        const rows = (await tx.query(
          `SELECT alert_id, version, sender, notice_type, CASE WHEN expires IS NOT NULL AND expires <= $1 THEN 'EXPIRED' ELSE 'RETENTION_PERIOD' END AS reason
           FROM alerts WHERE state <> 'PURGED' AND ((expires IS NOT NULL AND expires <= $1) OR first_received_at < $2)
           ORDER BY alert_id LIMIT $3 FOR UPDATE SKIP LOCKED`,
          [now, cutoff, batchSize],
        )) as { alert_id: string; version: number; sender: string; notice_type: string; reason: PurgeReason }[];
        if (rows.length === 0) return rows;
        const ids = rows.map((r) => r.alert_id);
        await tx.query(
          `UPDATE alerts SET state = 'PURGED', headline = NULL, description = NULL, content = NULL, updated_at = now() WHERE alert_id = ANY($1::uuid[])`,
          [ids],
        );
        await tx.query(`UPDATE alert_versions SET headline = NULL, description = NULL, content = NULL WHERE alert_id = ANY($1::uuid[])`, [
          ids,
        ]);
        await tx.query(
          `INSERT INTO tombstones (alert_id, version, purged_at, reason)
           SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::text[])
           ON CONFLICT (alert_id) DO NOTHING`,
          [ids, rows.map((r) => r.version), rows.map(() => now), rows.map((r) => r.reason)],
        );
        for (const r of rows) {
          await queueAuditEvent(tx, this.eventSigner, 'PURGED', {
            actor: this.agency,
            agency: this.agency,
            alertId: r.alert_id,
            alertVersion: r.version,
            originator: r.sender,
            noticeType: r.notice_type,
            reason: r.reason,
            details: { retentionDays: String(retentionDays) },
          });
        }
        return rows;
      });
      purged.push(...batch.map((r) => ({ alertId: r.alert_id, version: r.version, reason: r.reason })));
      if (batch.length < batchSize) return { purged };
    }
  }

  async tombstones(): Promise<{ alertId: string; version: number; purgedAt: Date; reason: string }[]> {
    const rows = (await this.db.query(`SELECT * FROM tombstones ORDER BY purged_at, alert_id`)) as {
      alert_id: string;
      version: number;
      purged_at: Date;
      reason: string;
    }[];
    return rows.map((r) => ({ alertId: r.alert_id, version: r.version, purgedAt: new Date(r.purged_at), reason: r.reason }));
  }

  /** Keeps an undecodable feed record whole instead of blocking its partition; idempotent per offset. */
  async reject(topic: string, partition: number, offset: string, value: Buffer | null, reason: string): Promise<void> {
    await this.db.query(
      `INSERT INTO rejected_records (topic, part, record_offset, value, reason) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [topic, partition, offset, value, reason.slice(0, 2000)],
    );
  }

  /** For tests and operators: how many version rows exist per alert. */
  async versionCount(alertId?: string): Promise<number> {
    const rows = (await (alertId
      ? this.db.query(`SELECT count(*) AS n FROM alert_versions WHERE alert_id = $1`, [alertId])
      : this.db.query(`SELECT count(*) AS n FROM alert_versions`))) as { n: string }[];
    return Number(rows[0]!.n);
  }

  get dataSource(): DataSource {
    return this.db;
  }
}

function iso(d: Date | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

function toItem(r: AlertRow): InboxItem {
  return {
    alertId: r.alert_id,
    version: r.version,
    msgType: r.msg_type,
    state: r.state,
    sender: r.sender,
    senderRegion: r.sender_region,
    noticeType: r.notice_type,
    urgency: r.urgency,
    severity: r.severity,
    tlp: r.tlp,
    status: r.status,
    sent: new Date(r.sent).toISOString(),
    expires: iso(r.expires),
    headline: r.headline,
    description: r.description,
    executionFlags: r.execution_flags,
    noReshare: r.no_reshare,
    redactedGroups: r.redacted_groups,
    firstReceivedAt: new Date(r.first_received_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    seq: Number(r.last_seq),
    acknowledged:
      r.ack_version === null || r.ack_version === undefined ? null : { version: r.ack_version, at: new Date(r.acked_at!).toISOString() },
  };
}

function toVersion(r: VersionRow): InboxVersion {
  return {
    version: r.version,
    msgType: r.msg_type,
    seq: Number(r.seq),
    deliveryId: r.delivery_id,
    receivedAt: new Date(r.received_at).toISOString(),
    decidedAt: new Date(r.decided_at).toISOString(),
    policyVersion: r.policy_version,
    ruleId: r.rule_id,
    outcome: r.outcome,
    recall: r.recall,
    replay: r.replay,
    executionFlags: r.execution_flags,
    noReshare: r.no_reshare,
    redactedGroups: r.redacted_groups,
    headline: r.headline,
  };
}

function toFeedEvent(r: VersionRow): FeedEvent {
  return {
    seq: Number(r.seq),
    alertId: r.alert_id,
    version: r.version,
    msgType: r.msg_type,
    state: r.state,
    senderRegion: r.sender_region,
    noticeType: r.notice_type,
    urgency: r.urgency,
    severity: r.severity,
    tlp: r.tlp,
    headline: r.headline,
    description: r.description,
    alert: r.content,
    executionFlags: r.execution_flags,
    noReshare: r.no_reshare,
    redactedGroups: r.redacted_groups,
    recall: r.recall,
    replay: r.replay,
    receivedAt: new Date(r.received_at).toISOString(),
  };
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`, 'utf8').toString('base64url');
}

export class BadCursorError extends Error {}

function decodeCursor(cursor: string): number {
  const m = /^s:(\d{1,18})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new BadCursorError('cursor is not one this API returned');
  return Number(m[1]);
}
