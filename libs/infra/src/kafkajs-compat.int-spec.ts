// KafkaJS 2.2.4 against the harness's Kafka 4.x broker: the client features the services rely on.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { Admin, EachMessagePayload } from 'kafkajs';
import { createTopics, deleteTopics, pollUntil, testKafka, uniqueName } from '@backbone/testing';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

jest.setTimeout(60_000);

describe('KafkaJS against the local Kafka 4 broker (SASL_SSL, SCRAM-SHA-512, as admin)', () => {
  const kafka = testKafka('admin', uniqueName('compat'));
  let admin: Admin;
  const topics: string[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await deleteTopics(admin, topics);
    await admin.disconnect();
  });

  it('creates and deletes topics through the admin API', async () => {
    const topic = uniqueName('compat-admin');
    await createTopics(admin, [topic], 4);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(4);
    await deleteTopics(admin, [topic]);
    await pollUntil(async () => !(await admin.listTopics()).includes(topic), { description: `${topic} deleted`, timeoutMs: 15_000 });
  });

  it('round-trips records with an idempotent acks=all producer and a consumer group', async () => {
    const topic = uniqueName('compat-rt');
    topics.push(topic);
    await createTopics(admin, [topic], 3);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const groupId = uniqueName('compat-group');
    const consumer = kafka.consumer({ groupId });
    const received: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void received.push(message.value?.toString() ?? '') });
      await pollUntil(() => received.length >= sent.length, { description: `${sent.length} records`, timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    expect(received.sort()).toEqual(sent.map((m) => m.value).sort());

    // The group committed its offsets: the broker reports them.
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(sent.length);
  });

  it('shows committed transactions to read_committed consumers and hides aborted ones', async () => {
    const topic = uniqueName('compat-tx');
    topics.push(topic);
    await createTopics(admin, [topic], 1);
    const producer = kafka.producer({ transactionalId: uniqueName('compat-txid'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ value: 'aborted' }] });
      await aborted.abort();
      const last = await producer.transaction();
      await last.send({ topic, messages: [{ value: 'committed-3' }] });
      await last.commit();
    } finally {
      await producer.disconnect();
    }

    const readAll = async (readUncommitted: boolean, expected: number): Promise<string[]> => {
      const consumer = kafka.consumer({ groupId: uniqueName('compat-tx-group'), readUncommitted });
      const values: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void values.push(message.value?.toString() ?? '') });
        await pollUntil(() => values.length >= expected, {
          description: `${expected} records (readUncommitted=${readUncommitted})`,
          timeoutMs: 30_000,
        });
      } finally {
        await consumer.disconnect();
      }
      return values;
    };
    expect(await readAll(false, 3)).toEqual(['committed-1', 'committed-2', 'committed-3']);
    expect(await readAll(true, 4)).toEqual(['committed-1', 'committed-2', 'aborted', 'committed-3']);
  });

  it('creates, lists and deletes ACLs', async () => {
    const topic = uniqueName('compat-acl');
    const principal = `User:${uniqueName('compat-nobody')}`;
    const entry = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal,
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    await admin.createAcls({ acl: [entry] });
    const described = await pollUntil(
      async () => {
        const r = await admin.describeAcls({ ...entry, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
        return r.resources.length > 0 ? r : undefined;
      },
      { description: 'the new ACL to be listed' },
    );
    expect(described.resources[0]?.acls).toEqual([
      { principal, host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
    ]);
    const deleted = await admin.deleteAcls({ filters: [entry] });
    expect(deleted.filterResponses[0]?.matchingAcls).toHaveLength(1);
  });
});
