import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { createLogger } from '@backbone/bootstrap';
import { topicNames, type TopicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { openStream, startTestSubscriber, type RunningAgencySubscriber, type SseReader } from './subscriber.test-kit.js';

// Attacker side: a desk whose access was withdrawn keeps the stream it opened before. Deleting the
// desk (or revoking its token) must end that open stream within seconds, and one desk may not hold
// more than the configured number of streams.

const FR = 'FR-NCB';
let admin: Admin;
let db: TestDatabase;
let topics: TopicNames;
let prefix: string;
let sub: RunningAgencySubscriber;
const streams: SseReader[] = [];

beforeAll(async () => {
  prefix = `${uniqueName('revoke')}.`;
  topics = topicNames(prefix);
  admin = testKafka('admin', uniqueName('revoke-admin')).admin();
  await admin.connect();
  await createTopics(admin, [topics.feedFor(FR), topics.audit]);
  db = await createTestDatabase({ label: 'stream_revocation' });
  sub = await startTestSubscriber({
    agency: FR,
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: db.url,
    logger: createLogger('agency-subscriber', 'warn'),
    heartbeatMs: 1000,
    maxStreamsPerDesk: 2,
    streamRevalidateMs: 300,
  });
}, 90_000);

afterAll(async () => {
  for (const s of streams) await s.close();
  await sub?.close();
  await deleteTopics(admin, [topics.feedFor(FR), topics.audit]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
}, 60_000);

async function open(token: string): Promise<SseReader> {
  const s = await openStream(sub.url, token);
  streams.push(s);
  return s;
}

describe('revocation reaches open streams', () => {
  it('deleting a desk ends its open stream within seconds, and the token no longer opens one', async () => {
    const { token } = await sub.desks.create('night-shift', {});
    const stream = await open(token);
    expect(stream.status).toBe(200);
    expect(stream.endedByServer).toBe(false);

    expect(await sub.desks.remove('night-shift')).toBe(true);
    await pollUntil(() => stream.endedByServer, { description: 'the revoked desk stream ended by the server', timeoutMs: 10_000 });
    expect((await open(token)).status).toBe(401);
  }, 60_000);

  it('a desk may hold only the configured number of concurrent streams', async () => {
    const { token } = await sub.desks.create('day-shift', {});
    const a = await open(token);
    const b = await open(token);
    expect([a.status, b.status]).toEqual([200, 200]);
    const third = await fetch(`${sub.url}/stream`, { headers: { authorization: `Bearer ${token}` } });
    expect(third.status).toBe(429);
    expect(((await third.json()) as { reason?: string }).reason).toBe('too-many-streams');
    // Closing one frees a slot.
    await a.close();
    await pollUntil(async () => (await open(token)).status === 200, {
      description: 'a slot freed after a stream closed',
      timeoutMs: 10_000,
    });
  }, 60_000);
});
