import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The agency's inbox. Runs inside the agency's own schema (search_path), so every agency
 * deployment has its own tables, its own desk tokens and its own sequence of inbox events.
 */
export class InboxSchema1767225600000 implements MigrationInterface {
  readonly name = 'InboxSchema1767225600000';

  async up(q: QueryRunner): Promise<void> {
    // One row per alert: the visible (highest) version. Content columns are NULL once cancelled or purged.
    await q.query(`
      CREATE TABLE alerts (
        alert_id          uuid PRIMARY KEY,
        version           int NOT NULL,
        msg_type          text NOT NULL,
        state             text NOT NULL CHECK (state IN ('ACTIVE', 'CANCELLED', 'PURGED')),
        sender            text NOT NULL,
        sender_region     text NOT NULL,
        notice_type       text NOT NULL,
        urgency           text NOT NULL,
        severity          text NOT NULL,
        tlp               text NOT NULL,
        status            text NOT NULL,
        sent              timestamptz NOT NULL,
        expires           timestamptz,
        headline          text,
        description       text,
        content           jsonb,
        execution_flags   text[] NOT NULL DEFAULT '{}',
        no_reshare        boolean NOT NULL DEFAULT false,
        redacted_groups   text[] NOT NULL DEFAULT '{}',
        first_received_at timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        last_seq          bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX alerts_last_seq ON alerts (last_seq)`);
    await q.query(`CREATE INDEX alerts_first_received ON alerts (first_received_at)`);

    // Every version ever received: (alert_id, version) is the exactly-once key, and seq is the
    // per-agency, gap-free, monotonically increasing inbox event number that SSE ids use.
    await q.query(`CREATE SEQUENCE inbox_seq`);
    await q.query(`
      CREATE TABLE alert_versions (
        alert_id        uuid NOT NULL,
        version         int NOT NULL,
        seq             bigint NOT NULL UNIQUE,
        delivery_id     uuid NOT NULL,
        msg_type        text NOT NULL,
        sender_region   text NOT NULL,
        notice_type     text NOT NULL,
        urgency         text NOT NULL,
        severity        text NOT NULL,
        tlp             text NOT NULL,
        headline        text,
        description     text,
        content         jsonb,
        execution_flags text[] NOT NULL DEFAULT '{}',
        no_reshare      boolean NOT NULL DEFAULT false,
        redacted_groups text[] NOT NULL DEFAULT '{}',
        policy_version  text NOT NULL,
        rule_id         text NOT NULL,
        outcome         text NOT NULL,
        recall          boolean NOT NULL,
        replay          boolean NOT NULL,
        decided_at      timestamptz NOT NULL,
        received_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (alert_id, version)
      )`);

    await q.query(`
      CREATE TABLE desks (
        desk_id     uuid PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        filter      jsonb NOT NULL,
        token_id    text NOT NULL UNIQUE,
        token_hash  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE acks (
        alert_id     uuid NOT NULL,
        desk_id      uuid NOT NULL REFERENCES desks (desk_id) ON DELETE CASCADE,
        version      int NOT NULL,
        acked_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (alert_id, desk_id)
      )`);

    await q.query(`
      CREATE TABLE tombstones (
        alert_id   uuid NOT NULL,
        version    int NOT NULL,
        purged_at  timestamptz NOT NULL,
        reason     text NOT NULL,
        PRIMARY KEY (alert_id)
      )`);

    // Audit events written in the same transaction as the change they describe, then relayed to
    // Kafka: a crash between commit and produce loses nothing (the relay resumes from here).
    await q.query(`
      CREATE TABLE audit_outbox (
        id        bigserial PRIMARY KEY,
        event_key text,
        event     bytea NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now()
      )`);

    // Feed records that could not be decoded: kept whole instead of blocking the partition
    // (the subscriber principal may not write the dead-letter topic).
    await q.query(`
      CREATE TABLE rejected_records (
        id          bigserial PRIMARY KEY,
        topic       text NOT NULL,
        part        int NOT NULL,
        record_offset text NOT NULL,
        value       bytea,
        reason      text NOT NULL,
        rejected_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (topic, part, record_offset)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['rejected_records', 'audit_outbox', 'tombstones', 'acks', 'desks', 'alert_versions', 'alerts']) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
    await q.query(`DROP SEQUENCE IF EXISTS inbox_seq`);
  }
}
