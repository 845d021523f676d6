import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { alertCodec } from '@backbone/codec';

/** A version whose Kafka outcome is unknown to PostgreSQL: was it committed on its partition? */
export interface VersionProbe {
  alertId: string;
  version: number;
  partition: number;
  /** When the version was built; its records carry a later timestamp. */
  sent: Date;
}

export type ProbeOutcome =
  | { kind: 'committed'; partition: number; offset: string; record: Buffer }
  /** The partition was read (read_committed) to its end and the version is not there. */
  | { kind: 'absent' }
  /** The partition could not be read to its end in time (e.g. a transaction still open): ask later. */
  | { kind: 'unknown' };

/** Records are looked for from this long before `sent` (producer clock vs. the clock that set `sent`). */
const CLOCK_SKEW_MS = 60_000;

export function probeKey(alertId: string, version: number): string {
  return `${alertId}#${version}`;
}

/**
 * Reads the alerts.submitted partitions of the probes, read_committed, from just before the
 * earliest probe to the high watermark taken at the start, and reports for each probe whether its
 * version is there. Read_committed stops at the last stable offset, so a version whose transaction
 * is still open (or whose coordinator is down) is never reported absent: it stays unknown. An
 * aborted transaction is skipped, so its version is reported absent.
 *
 * KafkaJS has no manual assignment: a throw-away consumer group (`groupPrefix` + random, never
 * committed) reads the partitions.
 */
export async function findCommittedVersions(
  kafka: Kafka,
  topic: string,
  probes: readonly VersionProbe[],
  opts: { groupPrefix: string; deadlineMs: number },
): Promise<Map<string, ProbeOutcome>> {
  const outcomes = new Map<string, ProbeOutcome>();
  if (probes.length === 0) return outcomes;
  const partitions = [...new Set(probes.map((p) => p.partition))];
  const earliest = Math.min(...probes.map((p) => p.sent.getTime())) - CLOCK_SKEW_MS;

  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  let starts: Map<number, bigint>;
  try {
    ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    starts = new Map((await admin.fetchTopicOffsetsByTimestamp(topic, earliest)).map((o) => [o.partition, BigInt(o.offset)]));
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const toRead = new Map<number, { from: bigint; end: bigint }>();
  for (const p of partitions) {
    const end = ends.get(p) ?? 0n;
    const start = starts.get(p);
    // -1: no record at or after the timestamp, i.e. nothing written since the probe was built.
    const from = start === undefined || start < 0n ? end : start;
    if (from < end) toRead.set(p, { from, end });
  }
  const wanted = new Map(probes.map((p) => [probeKey(p.alertId, p.version), p]));
  const done = new Set<number>(partitions.filter((p) => !toRead.has(p)));

  if (toRead.size > 0) {
    const consumer = kafka.consumer({
      groupId: `${opts.groupPrefix}${randomUUID()}`,
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const check = (): void => {
      const allFound = probes.every((p) => outcomes.has(probeKey(p.alertId, p.version)));
      if (allFound || partitions.every((p) => done.has(p))) finish();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const range = payload.topic === topic ? toRead.get(payload.partition) : undefined;
      // lastOffset counts control records (commit/abort markers), so the end is reachable.
      if (range && BigInt(payload.lastOffset) + 1n >= range.end) done.add(payload.partition);
      check();
    });
    const timer = setTimeout(finish, opts.deadlineMs);
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (!toRead.has(partition) || message.key === null || message.value === null) return;
          const alertId = message.key.toString();
          const value = message.value;
          let version: number;
          try {
            version = alertCodec.decode(value).version;
          } catch {
            return; // Not ours to judge here: the gate sets undecodable records aside.
          }
          const key = probeKey(alertId, version);
          const probe = wanted.get(key);
          if (probe && probe.partition === partition)
            outcomes.set(key, { kind: 'committed', partition, offset: message.offset, record: value });
        },
      });
      for (const [partition, range] of toRead) consumer.seek({ topic, partition, offset: range.from.toString() });
      await finished;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
    }
  }
  for (const p of probes) {
    const key = probeKey(p.alertId, p.version);
    if (!outcomes.has(key)) outcomes.set(key, done.has(p.partition) ? { kind: 'absent' } : { kind: 'unknown' });
  }
  return outcomes;
}
