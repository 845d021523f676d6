import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { deleteTopics, testKafka, uniqueName } from '@backbone/testing';
import { createTopicsAndWait } from './topic.admin.js';

jest.setTimeout(60_000);
const admin = testKafka('admin', 'topic-admin-test').admin();
const names = [uniqueName('topics-a'), uniqueName('topics-b')];

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await deleteTopics(admin, names).catch(() => undefined);
  await admin.disconnect();
});

describe('createTopicsAndWait (real broker)', () => {
  it('returns only once every partition of every new topic has a leader, and accepts topics that already exist', async () => {
    await createTopicsAndWait(
      admin,
      names.map((topic) => ({ topic, numPartitions: 3 })),
    );
    const { topics } = await admin.fetchTopicMetadata({ topics: names });
    expect(topics.map((t) => [t.name, t.partitions.length, t.partitions.every((p) => p.leader >= 0)]).sort()).toEqual(
      names.map((n) => [n, 3, true]).sort(),
    );
    // A second call (a re-run of the bench or of access bootstrap) is not an error.
    await expect(
      createTopicsAndWait(
        admin,
        names.map((topic) => ({ topic, numPartitions: 3 })),
      ),
    ).resolves.toBeUndefined();
  });

  it('passes on an error that waiting cannot fix', async () => {
    await expect(createTopicsAndWait(admin, [{ topic: 'bad topic name!', numPartitions: 1 }])).rejects.toThrow();
  });
});
