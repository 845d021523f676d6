import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { AUDIT_SCHEMA } from '@backbone/ledger';

/**
 * Where the ingest resumes, decided from the ledger (PostgreSQL), not from Kafka's committed
 * offsets: the ledger is what must not have holes. Kafka's offsets are only a cache of it.
 *
 * - After a database restore the ledger is behind the group's committed offsets: resuming from
 *   the ledger re-reads what the restore lost (nothing skipped).
 * - After audit.events was deleted and recreated its offsets start again at 0, below the ledger's:
 *   the positions key (topic, partition, offset) would call every new event a duplicate. The
 *   ingest then starts a new generation: ledger rows of the new incarnation carry the topic label
 *   `<topic>#g<n>`, so their positions are new, and it reads the new topic from its start.
 * - When the ledger and the topic disagree in a way that would lose events (the records after the
 *   ledger's last position were already deleted by retention, or a recreated topic no longer starts
 *   at offset 0), it refuses to start and says why.
 *
 * Limit: a recreated topic that has already grown past the ledger's old offsets looks like the old
 * one (KafkaJS does not expose topic ids); operators recreate audit.events only with the audit
 * logger stopped, and it detects the case on the next start while the new topic is still shorter.
 */
export class LedgerPositionConflict extends Error {
  override readonly name = 'LedgerPositionConflict';
}

export interface ResumePlan {
  /** The `topic` value new ledger rows carry: the Kafka topic, or `<topic>#g<n>` after a recreation. */
  ledgerTopic: string;
  generation: number;
  /** True when this start opened a new generation (the topic's offsets went backwards). */
  recreated: boolean;
  /** The offset to read next, per partition. */
  partitions: { partition: number; offset: string }[];
}

const GENERATION = /#g(\d+)$/;

export function ledgerTopicOf(topic: string, generation: number): string {
  return generation === 0 ? topic : `${topic}#g${generation}`;
}

interface Watermarks {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Pure: the decision from the ledger's next offsets (of its newest generation) and the topic's watermarks. */
export function decideResume(
  topic: string,
  generation: number,
  ledgerNext: ReadonlyMap<number, bigint>,
  marks: readonly Watermarks[],
): ResumePlan {
  const wentBack = marks.some((m) => {
    const next = ledgerNext.get(m.partition);
    return next !== undefined && m.high < next;
  });
  if (wentBack) {
    const lost = marks.filter((m) => m.low > 0n);
    if (lost.length > 0) {
      throw new LedgerPositionConflict(
        `${topic} was recreated (its offsets went back below the ledger's) but partition(s) ${lost.map((m) => `${m.partition} starts at ${m.low}`).join(', ')}` +
          ': events of the new topic were deleted before the audit logger read them. Restore them or start a new ledger deliberately.',
      );
    }
    return {
      ledgerTopic: ledgerTopicOf(topic, generation + 1),
      generation: generation + 1,
      recreated: true,
      partitions: marks.map((m) => ({ partition: m.partition, offset: '0' })),
    };
  }
  const partitions = marks.map((m) => {
    const next = ledgerNext.get(m.partition);
    if (next === undefined) {
      // Nothing of this partition in the ledger (a fresh ledger, a new partition, or a restore to
      // before its first event): read all that Kafka still has.
      return { partition: m.partition, offset: m.low.toString() };
    }
    if (next < m.low) {
      throw new LedgerPositionConflict(
        `the ledger holds ${topic} partition ${m.partition} up to offset ${next - 1n}, but the topic now starts at ${m.low}: ` +
          `events ${next}..${m.low - 1n} were deleted by retention before they were recorded (was the database restored from an old backup?). ` +
          'Restore a newer database backup, or re-publish the missing events.',
      );
    }
    return { partition: m.partition, offset: next.toString() };
  });
  return { ledgerTopic: ledgerTopicOf(topic, generation), generation, recreated: false, partitions };
}

/** Reads the ledger's newest generation and next offsets for `topic`, and the topic's watermarks. */
export async function planResume(pool: pg.Pool, admin: Admin, topic: string): Promise<ResumePlan> {
  const rows = (
    await pool.query<{ topic: string; kafka_partition: number; last: string }>(
      `SELECT topic, kafka_partition, max(kafka_offset)::text AS last FROM ${AUDIT_SCHEMA}.ledger
        WHERE topic = $1 OR starts_with(topic, $1 || '#g') GROUP BY topic, kafka_partition`,
      [topic],
    )
  ).rows;
  const generationOf = (label: string): number => (label === topic ? 0 : Number(GENERATION.exec(label)?.[1] ?? -1));
  const generation = rows.reduce((g, r) => Math.max(g, generationOf(r.topic)), 0);
  const ledgerNext = new Map<number, bigint>();
  for (const r of rows) if (generationOf(r.topic) === generation) ledgerNext.set(r.kafka_partition, BigInt(r.last) + 1n);
  const marks = (await admin.fetchTopicOffsets(topic)).map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }));
  return decideResume(topic, generation, ledgerNext, marks);
}
