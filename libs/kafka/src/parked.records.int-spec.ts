import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { createTopics, deleteTopics, pollUntil, testKafka, uniqueName } from '@backbone/testing';
import { parkedTopics, readParked, redriveParked, REDRIVEN_FROM_HEADER } from './parked.records.js';
import { KafkaRecordParker } from './record.parker.js';
import { topicNames } from './topics.js';

jest.setTimeout(90_000);

const kafka = testKafka('admin', uniqueName('parked-ops'));
const topics = topicNames(`${uniqueName('parked')}.`);
const source = topics.feedFor('DE-NCB');
const parkedTopic = topics.parkedFor('subscriber-DE-NCB');
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [source, parkedTopic, topics.deadLetter]);
});

afterAll(async () => {
  await deleteTopics(admin, [source, parkedTopic, topics.deadLetter]).catch(() => undefined);
  await admin.disconnect();
});

describe('parked records: list and re-drive (real broker)', () => {
  it('lists what was parked with reason and origin, and re-drives chosen records to their origin with the original bytes', async () => {
    const parker = new KafkaRecordParker(kafka, 'subscriber-DE-NCB', parkedTopic);
    try {
      await parker.park(
        { topic: source, partition: 0, offset: '4', key: Buffer.from('k1'), value: Buffer.from('first bytes') },
        'UNSTORABLE',
        'SQLSTATE 22021: x',
      );
      await parker.park({ topic: source, partition: 0, offset: '9', key: null, value: Buffer.from('junk') }, 'UNDECODABLE', 'BAD_MARKER');
    } finally {
      await parker.close();
    }
    expect(await parkedTopics(kafka, topics)).toEqual([topics.deadLetter, parkedTopic].sort());

    const listed = await readParked(kafka, parkedTopic);
    expect(listed.map((r) => [r.letter?.reason, r.letter?.sourceOffset])).toEqual([
      ['UNSTORABLE', 4],
      ['UNDECODABLE', 9],
    ]);

    const chosen = listed[0]!.letter!;
    expect(await redriveParked(kafka, [chosen])).toBe(1);
    const seen: { value: string; key: string; from: string }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('redrive-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: source, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void seen.push({
          value: message.value!.toString(),
          key: message.key!.toString(),
          from: String(message.headers?.[REDRIVEN_FROM_HEADER]),
        }),
    });
    try {
      await pollUntil(() => seen.length >= 1, { description: 'the re-driven record on its origin topic', timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual([{ value: 'first bytes', key: 'k1', from: chosen.deadLetterId }]);
  });
});
