import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reviewers who may release held alerts (`POST /holds/{alertId}/release`). Only the SHA-256 of
 * each bearer token is stored (@backbone/auth); `backbone policy reviewers issue NAME` adds one.
 */
export class GateReviewers1764100000000 implements MigrationInterface {
  readonly name = 'GateReviewers1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reviewers (
        token_id text PRIMARY KEY,
        name text NOT NULL,
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE reviewers');
  }
}
