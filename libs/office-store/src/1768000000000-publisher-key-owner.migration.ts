import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each Idempotency-Key reservation names the process that made it: the Kafka transactional.id it
 * publishes with and that process's boot id. A later boot with the same transactional.id has
 * fenced every earlier one (InitProducerId aborts what they left open and refuses their commits),
 * so a key still pending from an earlier boot is orphaned and can be settled against Kafka at
 * once, instead of after the settle time.
 */
export class PublisherKeyOwner1768000000000 implements MigrationInterface {
  name = 'PublisherKeyOwner1768000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE idempotency_keys ADD COLUMN owner_txid text, ADD COLUMN owner_boot uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE idempotency_keys DROP COLUMN owner_boot, DROP COLUMN owner_txid');
  }
}
