import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The publisher's own tables, in its schema (search_path is set by createDataSource).
 * Credentials are stored as SHA-256 hashes only; the token is shown once at issue.
 */
export class PublisherSchema1764000000000 implements MigrationInterface {
  name = 'PublisherSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE office_credentials (
        token_id    text PRIMARY KEY,
        agency      text NOT NULL,
        token_hash  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      )`);
    await q.query(`CREATE INDEX office_credentials_agency ON office_credentials (agency) WHERE revoked_at IS NULL`);
    // The (agency, key) row is the reservation: inserted before publishing, so a concurrent
    // duplicate finds it and never publishes a second alert.
    await q.query(`
      CREATE TABLE idempotency_keys (
        agency        text NOT NULL,
        idem_key      text NOT NULL,
        request_hash  text NOT NULL,
        state         text NOT NULL CHECK (state IN ('pending', 'done')),
        status_code   integer,
        response      jsonb,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (agency, idem_key)
      )`);
    await q.query(`
      CREATE TABLE alerts (
        alert_id        uuid PRIMARY KEY,
        sender          text NOT NULL,
        sender_region   text NOT NULL,
        notice_type     text NOT NULL,
        headline        text NOT NULL,
        state           text NOT NULL CHECK (state IN ('active', 'cancelled')),
        latest_version  integer NOT NULL,
        content         jsonb NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX alerts_sender_created ON alerts (sender, created_at DESC, alert_id)`);
    // One row per version; the primary key is also the reservation of the next version, so two
    // concurrent updates of one alert cannot both publish version n+1.
    await q.query(`
      CREATE TABLE alert_versions (
        alert_id    uuid NOT NULL,
        version     integer NOT NULL,
        msg_type    text NOT NULL,
        state       text NOT NULL CHECK (state IN ('pending', 'published')),
        partition   integer,
        "offset"    bigint,
        sent        timestamptz NOT NULL,
        PRIMARY KEY (alert_id, version)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE alert_versions');
    await q.query('DROP TABLE alerts');
    await q.query('DROP TABLE idempotency_keys');
    await q.query('DROP TABLE office_credentials');
  }
}
