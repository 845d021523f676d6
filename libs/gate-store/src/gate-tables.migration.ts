import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The gate's durable state, in its own schema (policy_gate):
 * - alert_recipients: every agency that received some version of an alert; recall reads it.
 * - alert_decisions: the decision per alert version (alert bytes, every outcome, policy version),
 *   so `backbone policy explain` can answer for any past alert.
 * - held_alerts: HOLD outcomes awaiting an operator's release.
 */
export class GateTables1764000000000 implements MigrationInterface {
  readonly name = 'GateTables1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE alert_recipients (
        alert_id uuid NOT NULL,
        agency text NOT NULL,
        first_version int NOT NULL,
        last_version int NOT NULL,
        first_delivered_at timestamptz NOT NULL,
        last_delivered_at timestamptz NOT NULL,
        PRIMARY KEY (alert_id, agency)
      )`);
    await q.query(`
      CREATE TABLE alert_decisions (
        alert_id uuid NOT NULL,
        version int NOT NULL,
        msg_type text NOT NULL,
        sender text NOT NULL,
        policy_version text NOT NULL,
        decided_at timestamptz NOT NULL,
        alert bytea NOT NULL,
        outcomes jsonb NOT NULL,
        recalled text[] NOT NULL DEFAULT '{}',
        PRIMARY KEY (alert_id, version)
      )`);
    await q.query(`
      CREATE TABLE held_alerts (
        alert_id uuid NOT NULL,
        version int NOT NULL,
        agency text NOT NULL,
        rule_id text NOT NULL,
        policy_version text NOT NULL,
        held_at timestamptz NOT NULL,
        alert bytea NOT NULL,
        released_at timestamptz,
        released_by text,
        PRIMARY KEY (alert_id, version, agency)
      )`);
    await q.query(`CREATE INDEX held_alerts_pending ON held_alerts (held_at) WHERE released_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE held_alerts');
    await q.query('DROP TABLE alert_decisions');
    await q.query('DROP TABLE alert_recipients');
  }
}
