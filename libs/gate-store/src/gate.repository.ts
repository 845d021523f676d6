import type { DataSource, EntityManager } from 'typeorm';
import { issueToken, tokenId, tokenMatches } from '@backbone/auth';
import { createDataSource, pingDatabase, runMigrations } from '@backbone/persistence';
import type { BatchRows, GateOutcome, PastRecipient } from './gate-rows.types.js';
import { GateReviewers1764100000000 } from './gate-reviewers.migration.js';
import { GateTables1764000000000 } from './gate-tables.migration.js';

export const GATE_SCHEMA = 'policy_gate';

export interface StoredDecision {
  readonly alertId: string;
  readonly version: number;
  readonly msgType: string;
  readonly sender: string;
  readonly policyVersion: string;
  readonly decidedAt: Date;
  readonly alert: Buffer;
  readonly outcomes: GateOutcome[];
  readonly recalled: string[];
}

export interface HeldAlert {
  readonly alertId: string;
  readonly version: number;
  readonly agency: string;
  readonly ruleId: string;
  readonly policyVersion: string;
  readonly heldAt: Date;
  readonly releasedAt: Date | null;
}

/** A held alert version with its stored bytes, locked for release. */
export interface LockedHold {
  readonly agency: string;
  readonly ruleId: string;
  readonly alert: Buffer;
  readonly releasedAt: Date | null;
}

export interface Reviewer {
  readonly tokenId: string;
  readonly name: string;
}

/**
 * The only door to the gate's PostgreSQL tables. Batch writes go through jsonb_to_recordset:
 * four parameters whatever the batch size, so the 65,535 bind-parameter limit never applies,
 * and a batch's history is one statement, one round trip.
 */
export class GateRepository {
  private constructor(readonly dataSource: DataSource) {}

  /** `migrate: false` for read-only callers (the CLI) that must not change the schema. */
  static async open(url: string, options: { poolSize?: number; migrate?: boolean } = {}): Promise<GateRepository> {
    const dataSource = createDataSource({
      url,
      schema: GATE_SCHEMA,
      migrations: [GateTables1764000000000, GateReviewers1764100000000],
      applicationName: 'policy-gate',
      poolSize: options.poolSize ?? 5,
    });
    await dataSource.initialize();
    if (options.migrate ?? true) await runMigrations(dataSource);
    return new GateRepository(dataSource);
  }

  async ping(): Promise<void> {
    const result = await pingDatabase(this.dataSource, 1500);
    if (!result.ok) throw new Error(result.error ?? 'database did not answer');
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /** alertId → agencies that received some version, with the first version each received. */
  async pastRecipients(alertIds: readonly string[]): Promise<Map<string, PastRecipient[]>> {
    const out = new Map<string, PastRecipient[]>();
    if (alertIds.length === 0) return out;
    const rows = (await this.dataSource.query(
      'SELECT alert_id::text AS "alertId", agency, first_version AS "firstVersion" FROM alert_recipients WHERE alert_id = ANY($1::uuid[])',
      [alertIds],
    )) as { alertId: string; agency: string; firstVersion: number }[];
    for (const row of rows) {
      let list = out.get(row.alertId);
      if (!list) out.set(row.alertId, (list = []));
      list.push({ agency: row.agency, firstVersion: row.firstVersion });
    }
    return out;
  }

  /**
   * Records a batch's recipients, decisions and holds in one PostgreSQL statement (one transaction). The caller
   * commits the Kafka transaction only after this returns: a crash in between leaves the history
   * a superset of what was delivered, and the redelivered batch re-upserts the same rows
   * (every statement here is idempotent).
   */
  async recordBatch(batch: BatchRows): Promise<void> {
    const recipients = new Map<string, { alert_id: string; agency: string; first: number; last: number }>();
    for (const r of batch.recipients) {
      const key = `${r.alertId}\u0000${r.agency}`;
      const seen = recipients.get(key);
      if (seen) {
        seen.first = Math.min(seen.first, r.version);
        seen.last = Math.max(seen.last, r.version);
      } else recipients.set(key, { alert_id: r.alertId, agency: r.agency, first: r.version, last: r.version });
    }
    // A duplicated input record yields the same (alert, version) twice; ON CONFLICT may touch a row only once per statement.
    const decisions = new Map<string, Record<string, unknown>>();
    for (const d of batch.decisions) {
      decisions.set(`${d.alertId}\u0000${d.version}`, {
        alert_id: d.alertId,
        version: d.version,
        msg_type: d.msgType,
        sender: d.sender,
        policy_version: d.policyVersion,
        decided_at: d.decidedAt.toISOString(),
        alert: d.alert.toString('base64'),
        outcomes: d.outcomes,
        recalled: d.recalled,
      });
    }
    const holds = new Map<string, Record<string, unknown>>();
    for (const h of batch.holds) {
      holds.set(`${h.alertId}\u0000${h.version}\u0000${h.agency}`, {
        alert_id: h.alertId,
        version: h.version,
        agency: h.agency,
        rule_id: h.ruleId,
        policy_version: h.policyVersion,
        held_at: h.heldAt.toISOString(),
        alert: h.alert.toString('base64'),
      });
    }
    if (recipients.size === 0 && decisions.size === 0 && holds.size === 0) return;
    // One statement, so one round trip and its own implicit transaction (all three tables or
    // none) instead of BEGIN, up to three INSERTs and COMMIT: the gate waits for this before
    // every Kafka transaction. Each data-modifying CTE runs whether or not it is read.
    await this.dataSource.query(
      `WITH recipients AS (
         INSERT INTO alert_recipients (alert_id, agency, first_version, last_version, first_delivered_at, last_delivered_at)
         SELECT t.alert_id, t.agency, t.first, t.last, $2::timestamptz, $2::timestamptz
           FROM jsonb_to_recordset($1::jsonb) AS t(alert_id uuid, agency text, first int, last int)
         ON CONFLICT (alert_id, agency) DO UPDATE SET
           first_version = LEAST(alert_recipients.first_version, EXCLUDED.first_version),
           last_version = GREATEST(alert_recipients.last_version, EXCLUDED.last_version),
           last_delivered_at = EXCLUDED.last_delivered_at
       ),
       -- A re-processed batch overwrites: the last attempt is the one whose Kafka transaction committed.
       decisions AS (
         INSERT INTO alert_decisions (alert_id, version, msg_type, sender, policy_version, decided_at, alert, outcomes, recalled)
         SELECT t.alert_id, t.version, t.msg_type, t.sender, t.policy_version, t.decided_at, decode(t.alert, 'base64'), t.outcomes,
                ARRAY(SELECT jsonb_array_elements_text(t.recalled))
           FROM jsonb_to_recordset($3::jsonb) AS t(alert_id uuid, version int, msg_type text, sender text, policy_version text,
                                                  decided_at timestamptz, alert text, outcomes jsonb, recalled jsonb)
         ON CONFLICT (alert_id, version) DO UPDATE SET
           policy_version = EXCLUDED.policy_version, decided_at = EXCLUDED.decided_at, alert = EXCLUDED.alert,
           outcomes = EXCLUDED.outcomes, recalled = EXCLUDED.recalled
       ),
       holds AS (
         INSERT INTO held_alerts (alert_id, version, agency, rule_id, policy_version, held_at, alert)
         SELECT t.alert_id, t.version, t.agency, t.rule_id, t.policy_version, t.held_at, decode(t.alert, 'base64')
           FROM jsonb_to_recordset($4::jsonb) AS t(alert_id uuid, version int, agency text, rule_id text, policy_version text,
                                                  held_at timestamptz, alert text)
         ON CONFLICT (alert_id, version, agency) DO NOTHING
       )
       SELECT 1`,
      [
        JSON.stringify([...recipients.values()]),
        new Date().toISOString(),
        JSON.stringify([...decisions.values()]),
        JSON.stringify([...holds.values()]),
      ],
    );
  }

  /** Every stored decision for an alert, newest version first. */
  async decisionsFor(alertId: string): Promise<StoredDecision[]> {
    const rows = (await this.dataSource.query(
      `SELECT alert_id::text AS "alertId", version, msg_type AS "msgType", sender, policy_version AS "policyVersion",
              decided_at AS "decidedAt", alert, outcomes, recalled
         FROM alert_decisions WHERE alert_id = $1::uuid ORDER BY version DESC`,
      [alertId],
    )) as StoredDecision[];
    return rows.map((r) => ({ ...r, decidedAt: new Date(r.decidedAt) }));
  }

  async recipientsOf(alertId: string): Promise<{ agency: string; firstVersion: number; lastVersion: number }[]> {
    return (await this.dataSource.query(
      `SELECT agency, first_version AS "firstVersion", last_version AS "lastVersion"
         FROM alert_recipients WHERE alert_id = $1::uuid ORDER BY agency`,
      [alertId],
    )) as { agency: string; firstVersion: number; lastVersion: number }[];
  }

  async pendingHolds(limit = 100): Promise<HeldAlert[]> {
    return (await this.dataSource.query(
      `SELECT alert_id::text AS "alertId", version, agency, rule_id AS "ruleId", policy_version AS "policyVersion",
              held_at AS "heldAt", released_at AS "releasedAt"
         FROM held_alerts WHERE released_at IS NULL ORDER BY held_at LIMIT $1`,
      [limit],
    )) as HeldAlert[];
  }

  /** The newest version of an alert with a hold (pending or released), or null if it was never held. */
  async latestHeldVersion(alertId: string): Promise<number | null> {
    const rows = (await this.dataSource.query('SELECT max(version) AS v FROM held_alerts WHERE alert_id = $1::uuid', [alertId])) as {
      v: number | null;
    }[];
    return rows[0]?.v ?? null;
  }

  /**
   * Runs `work` in a PostgreSQL transaction holding row locks on every hold of (alert, version):
   * a concurrent release of the same alert waits, then sees the holds released.
   */
  async withLockedHolds<T>(alertId: string, version: number, work: (holds: LockedHold[], m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `SELECT agency, rule_id AS "ruleId", alert, released_at AS "releasedAt"
           FROM held_alerts WHERE alert_id = $1::uuid AND version = $2 ORDER BY agency FOR UPDATE`,
        [alertId, version],
      )) as LockedHold[];
      return work(rows, m);
    });
  }

  /** Marks holds released and adds the agencies to the recipient history (so recall reaches them). */
  /**
   * Records released agencies as recipients of the alert, committed on its own BEFORE the release's
   * Kafka transaction (ADR 0003, the consumer's order): an Update or Cancel the gate decides from
   * then on reaches them as past recipients, so an agency that gets the released version always
   * gets what follows. A crash before the Kafka commit leaves a superset, which recall tolerates.
   */
  async recordRecipients(alertId: string, version: number, agencies: readonly string[]): Promise<void> {
    if (agencies.length === 0) return;
    const now = new Date().toISOString();
    await this.dataSource.query(
      `INSERT INTO alert_recipients (alert_id, agency, first_version, last_version, first_delivered_at, last_delivered_at)
       SELECT $1::uuid, a, $2, $2, $4::timestamptz, $4::timestamptz FROM unnest($3::text[]) AS a
       ON CONFLICT (alert_id, agency) DO UPDATE SET
         first_version = LEAST(alert_recipients.first_version, EXCLUDED.first_version),
         last_version = GREATEST(alert_recipients.last_version, EXCLUDED.last_version),
         last_delivered_at = EXCLUDED.last_delivered_at`,
      [alertId, version, agencies, now],
    );
  }

  async markReleased(m: EntityManager, alertId: string, version: number, agencies: readonly string[], releasedBy: string): Promise<void> {
    if (agencies.length === 0) return;
    const now = new Date().toISOString();
    await m.query(
      `UPDATE held_alerts SET released_at = $4::timestamptz, released_by = $5
        WHERE alert_id = $1::uuid AND version = $2 AND agency = ANY($3::text[]) AND released_at IS NULL`,
      [alertId, version, agencies, now, releasedBy],
    );
    await m.query(
      `INSERT INTO alert_recipients (alert_id, agency, first_version, last_version, first_delivered_at, last_delivered_at)
       SELECT $1::uuid, a, $2, $2, $4::timestamptz, $4::timestamptz FROM unnest($3::text[]) AS a
       ON CONFLICT (alert_id, agency) DO UPDATE SET
         first_version = LEAST(alert_recipients.first_version, EXCLUDED.first_version),
         last_version = GREATEST(alert_recipients.last_version, EXCLUDED.last_version),
         last_delivered_at = EXCLUDED.last_delivered_at`,
      [alertId, version, agencies, now],
    );
  }

  /** Issues a reviewer bearer token; only its SHA-256 is stored. The token is returned once. */
  async issueReviewer(name: string): Promise<{ name: string; tokenId: string; token: string }> {
    if (!/^[A-Za-z0-9._@-]{1,100}$/.test(name)) throw new Error('reviewer name: 1-100 characters of letters, digits, . _ @ -');
    const t = issueToken();
    await this.dataSource.query('INSERT INTO reviewers (token_id, name, token_hash) VALUES ($1, $2, $3)', [t.id, name, t.hash]);
    return { name, tokenId: t.id, token: t.token };
  }

  /** The reviewer holding this token, or null (malformed, unknown, revoked, or wrong secret). */
  async reviewerByToken(token: string): Promise<Reviewer | null> {
    const id = tokenId(token);
    if (id === null) return null;
    const rows = (await this.dataSource.query(
      'SELECT name, token_hash AS "hash" FROM reviewers WHERE token_id = $1 AND revoked_at IS NULL',
      [id],
    )) as {
      name: string;
      hash: string;
    }[];
    const row = rows[0];
    return row && tokenMatches(token, row.hash) ? { tokenId: id, name: row.name } : null;
  }
}
