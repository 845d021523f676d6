import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { deadLetterCodec, type DeadLetter } from '@backbone/codec';
import { PARKING_SERVICES, type TopicNames } from './topics.js';

/** One record on a dead-letter topic, as an operator sees it. */
export interface ParkedRecord {
  parkedTopic: string;
  partition: number;
  offset: string;
  /** Null when the dead letter itself does not decode (then `raw` holds it). */
  letter: DeadLetter | null;
  raw: Buffer | null;
}

/** Header on a re-driven record: the dead letter it came from, so a second parking can be traced back. */
export const REDRIVEN_FROM_HEADER = 'backbone-redriven-from';

/** Every dead-letter topic that exists for `topics`' prefix: the gate's alerts.dead-letter and each parked.<service>. */
export async function parkedTopics(kafka: Kafka, topics: TopicNames): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const all = await admin.listTopics();
    const gate = topics.parkedFor(PARKING_SERVICES.gate);
    return all.filter((t) => t === gate || t.startsWith(topics.parkedPrefix)).sort();
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a dead-letter topic from the beginning to its current end (read_committed: the gate
 * writes its dead letters in transactions). A throw-away consumer group, deleted afterwards; the
 * end is reached when that group's committed offsets reach each partition's high watermark, which
 * also covers transaction markers.
 */
export async function readParked(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<ParkedRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `backbone-parked-reader-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  const out: ParkedRecord[] = [];
  try {
    const ends = (await admin.fetchTopicOffsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low));
    if (ends.length === 0) return out;
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        let letter: DeadLetter | null;
        try {
          letter = message.value ? deadLetterCodec.decode(message.value) : null;
        } catch {
          letter = null;
        }
        out.push({ parkedTopic: topic, partition, offset: message.offset, letter, raw: letter ? null : message.value });
      },
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const mine = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
      if (ends.every((e) => (mine.get(e.partition) ?? -1n) >= BigInt(e.high))) break;
      if (Date.now() > deadline) throw new Error(`could not read ${topic} to its end within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

/**
 * Re-publishes parked records to where they came from: the original key and value bytes to the
 * original topic and partition (so they queue behind the same key's later records, in order of
 * re-drive). A record that still cannot be processed is simply parked again, with a new dead letter.
 */
export async function redriveParked(kafka: Kafka, letters: readonly DeadLetter[]): Promise<number> {
  if (letters.length === 0) return 0;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (const l of letters) {
      await producer.send({
        topic: l.sourceTopic,
        acks: -1,
        messages: [{ partition: l.sourcePartition, key: l.key, value: l.value, headers: { [REDRIVEN_FROM_HEADER]: l.deadLetterId } }],
      });
    }
    return letters.length;
  } finally {
    await producer.disconnect();
  }
}
