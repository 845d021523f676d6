import { afterEach, expect, it, jest } from '@jest/globals';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { createTopics, deleteTopics, pollUntil, testKafka, uniqueName } from '@backbone/testing';

// scripts/patch-kafkajs.js, patch 6, against the real broker: a transaction aborted after a produce
// request the broker half wrote must not make the producer's next transaction reuse its sequence
// numbers, or the broker takes the retried batch for a duplicate of the aborted one and keeps none.

jest.setTimeout(60_000);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

it('a transaction retried on the same producer after an abort commits its records (none taken for a duplicate of the aborted batch)', async () => {
  const admin: Admin = testKafka('admin', uniqueName('abort-admin')).admin();
  await admin.connect();
  cleanup.push(() => admin.disconnect());
  const small = uniqueName('abort-small');
  const tight = uniqueName('abort-tight');
  // One broker leads both, so one produce request carries both: the broker writes `small` and
  // refuses `tight` (MESSAGE_TOO_LARGE), and the client rolls back the numbers of both.
  await admin.createTopics({
    topics: [{ topic: tight, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '1024' }] }],
    waitForLeaders: false,
  });
  await createTopics(admin, [small, tight]);
  cleanup.push(() => deleteTopics(admin, [small, tight]));

  const kafka = testKafka('admin', uniqueName('abort'));
  const producer: Producer = kafka.producer({ transactionalId: uniqueName('abort-txn'), idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanup.push(() => producer.disconnect());

  const first = await producer.transaction();
  const refused = await first
    .sendBatch({
      acks: -1,
      topicMessages: [
        { topic: small, messages: [{ key: 'k', value: 'aborted' }] },
        { topic: tight, messages: [{ key: 'k', value: Buffer.alloc(4096) }] },
      ],
    })
    .then(
      () => undefined,
      (err: Error & { type?: string }) => err.type,
    );
  expect(refused).toBe('MESSAGE_TOO_LARGE');
  await first.abort();
  const written = (await admin.fetchTopicOffsets(small))[0]!;
  expect(Number(written.high)).toBeGreaterThanOrEqual(1); // the aborted record is on the broker

  // The retry: one record, as the aborted batch had, on the same producer.
  const second = await producer.transaction();
  await second.sendBatch({ acks: -1, topicMessages: [{ topic: small, messages: [{ key: 'k', value: 'committed' }] }] });
  await second.commit();

  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('abort-reader'), readUncommitted: false });
  await consumer.connect();
  cleanup.push(() => consumer.disconnect());
  await consumer.subscribe({ topic: small, fromBeginning: true });
  const seen: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? '') });
  // Offsets are read in order, so once the committed record is seen the aborted one has been passed.
  await pollUntil(() => seen.includes('committed'), { description: 'the retried transaction’s record', timeoutMs: 20_000 });
  expect(seen).toEqual(['committed']);
});
