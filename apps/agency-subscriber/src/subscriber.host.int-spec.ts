import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from '@backbone/bootstrap';
import { topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startSubscriberHost, type HostedAgency, type SubscriberHost } from './subscriber.host.js';

// Group joins on a shared 2-core broker take seconds.
jest.setTimeout(120_000);
const logger = createLogger('agency-subscriber', process.env['TEST_LOG_LEVEL'] ?? 'fatal');
const AGENCIES = ['FR-NCB', 'DE-NCB'];

let db: TestDatabase;
const prefix = `${uniqueName('host')}.`;
const topics = topicNames(prefix);
const kafka = testKafka('admin', 'subscriber-host-test');
const admin = kafka.admin();

beforeAll(async () => {
  db = await createTestDatabase({ label: 'subscriber_host' });
  await admin.connect();
  await createTopics(admin, [...AGENCIES.map((a) => topics.feedFor(a)), topics.audit], 1);
});

afterAll(async () => {
  await deleteTopics(admin, [...AGENCIES.map((a) => topics.feedFor(a)), topics.audit]).catch(() => undefined);
  await admin.disconnect();
  await db.drop();
});

/** Topics carry this run's prefix, which only the admin principal's ACLs cover: each agency logs in as admin here. */
function hosted(password?: string): HostedAgency[] {
  const sasl = testKafkaConnection('admin').sasl as { username: string; password: string };
  return AGENCIES.map((agency) => ({ agency, port: 0, kafkaUsername: sasl.username, kafkaPassword: password ?? sasl.password }));
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, KAFKA_TOPIC_PREFIX: prefix, PURGE_INTERVAL_MS: '0' });

describe('subscriber host (several agencies in one process, real broker and PostgreSQL)', () => {
  it('serves each agency on its own port, in its own consumer group on its own feed', async () => {
    let host: SubscriberHost | undefined;
    try {
      host = await startSubscriberHost(hosted(), env(), db.url, logger);
      const urls = AGENCIES.map((a) => host!.services.get(a)!.url);
      expect(new Set(urls).size).toBe(2);
      for (const url of urls)
        await pollUntil(async () => (await fetch(`${url}/health/ready`)).ok, { description: `${url} ready`, timeoutMs: 60_000 });
      for (const agency of AGENCIES) {
        const groupId = `${prefix}subscriber-${agency}`;
        await pollUntil(
          async () => {
            const offsets = await admin.fetchOffsets({ groupId, topics: [topics.feedFor(agency)] }).catch(() => []);
            const { groups } = await admin.describeGroups([groupId]);
            return groups[0]?.state === 'Stable' && groups[0].members.length === 1 && offsets.length === 1;
          },
          { description: `${groupId} consuming ${topics.feedFor(agency)}`, timeoutMs: 60_000 },
        );
      }
      // Desk APIs are per agency: a call without a desk token is refused on each.
      for (const url of urls) expect((await fetch(`${url}/inbox`)).status).toBe(401);
    } finally {
      await host?.close();
    }
  });

  it('starts all agencies or none: a wrong password for one fails the host and names the agency', async () => {
    const agencies = hosted();
    agencies[1] = { ...agencies[1]!, kafkaPassword: 'not-the-password' };
    await expect(startSubscriberHost(agencies, env(), db.url, logger)).rejects.toThrow(/subscribers failed to start: DE-NCB: /);
  });
});
