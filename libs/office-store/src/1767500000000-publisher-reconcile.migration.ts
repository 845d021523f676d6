import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the reconciler needs to heal half-done work after a crash or a failed PostgreSQL write:
 * each pending version keeps the exact Avro record it tried to publish (so a committed version
 * can be completed from it), and each Idempotency-Key names the alert version it was publishing
 * (so a retry can be answered with that alert's id once its outcome is known).
 */
export class PublisherReconcile1767500000000 implements MigrationInterface {
  name = 'PublisherReconcile1767500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE alert_versions ADD COLUMN record bytea, ADD COLUMN reserved_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE INDEX alert_versions_pending ON alert_versions (reserved_at) WHERE state = 'pending'`);
    await q.query(`ALTER TABLE idempotency_keys ADD COLUMN alert_id uuid, ADD COLUMN alert_version integer`);
    await q.query(`CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)`);
    await q.query(`CREATE INDEX idempotency_keys_pending_alert ON idempotency_keys (alert_id, alert_version) WHERE state = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idempotency_keys_pending_alert');
    await q.query('DROP INDEX idempotency_keys_created');
    await q.query('ALTER TABLE idempotency_keys DROP COLUMN alert_version, DROP COLUMN alert_id');
    await q.query('DROP INDEX alert_versions_pending');
    await q.query('ALTER TABLE alert_versions DROP COLUMN reserved_at, DROP COLUMN record');
  }
}
