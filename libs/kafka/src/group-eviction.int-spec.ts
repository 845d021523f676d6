// A consumer SIGKILLed stays in its group until its session times out; its restarted successor
// (same client id) removes it at once. Real broker, a real process killed.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { evictPredecessors } from './group-eviction.js';

/** A consumer in its own process: joins `GROUP` with client id `CLIENT_ID` and a 60 s session, then waits to be killed. */
const MEMBER = `
const { Kafka, logLevel } = require(process.env.KAFKAJS);
const conn = JSON.parse(process.env.CONN);
const kafka = new Kafka({ clientId: process.env.CLIENT_ID, brokers: conn.brokers, ssl: conn.ssl, sasl: conn.sasl, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: process.env.GROUP, sessionTimeout: 60000, heartbeatInterval: 1000 });
consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined\\n'));
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topics: [process.env.TOPIC], fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
})();
`;

describe('evictPredecessors: a restarted instance removes its SIGKILLed predecessor from the group', () => {
  const topic = uniqueName('evict');
  const groupId = uniqueName('evict-group');
  const clientId = uniqueName('instance');
  let admin: Admin;

  beforeAll(async () => {
    admin = testKafka('admin').admin();
    await admin.connect();
    await createTopics(admin, [topic], 2);
  }, 60_000);

  afterAll(async () => {
    await deleteTopics(admin, [topic]).catch(() => undefined);
    await admin.disconnect();
  });

  it('a member whose process died is gone at once, long before its 60 s session would end; other members stay', async () => {
    const member = (id: string) =>
      spawn(process.execPath, ['-e', MEMBER], {
        env: {
          ...process.env,
          KAFKAJS: createRequire(import.meta.url).resolve('kafkajs'),
          CONN: JSON.stringify(testKafkaConnection('admin')),
          CLIENT_ID: id,
          GROUP: groupId,
          TOPIC: topic,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    const dead = member(clientId);
    const other = member(`${clientId}-other`);
    try {
      const members = async () => (await admin.describeGroups([groupId])).groups[0]!;
      await pollUntil(async () => (await members()).state === 'Stable' && (await members()).members.length === 2, {
        description: 'both members in a stable group',
        timeoutMs: 60_000,
      });
      const before = (await members()).members;
      const deadId = before.find((m) => m.clientId === clientId)!.memberId;
      dead.kill('SIGKILL');
      await new Promise((resolve) => dead.once('exit', resolve));
      // Still a member: its 60 s session has not ended.
      expect((await members()).members.map((m) => m.memberId)).toContain(deadId);

      expect(await evictPredecessors(testKafka('admin', clientId), groupId, clientId)).toEqual([deadId]);
      const after = (await members()).members;
      expect(after.map((m) => m.memberId)).not.toContain(deadId);
      expect(after.map((m) => m.clientId)).toContain(`${clientId}-other`);
      // Nobody of that client id left: nothing to do.
      expect(await evictPredecessors(testKafka('admin', clientId), groupId, clientId)).toEqual([]);
    } finally {
      dead.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  }, 120_000);
});
