// Issue #7: what a curious agency, a compromised subscriber or a leaked credential can NOT do on the
// local broker. Agency A = FR-NCB, agency B = DE-NCB, both from policies/registry.yaml. Every attempt
// here is refused, so the real topics are only ever read from, never written.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { Consumer, Kafka } from 'kafkajs';
import { topicNames } from '@backbone/kafka';
import { hasServicePrincipals, testKafka, uniqueName } from '@backbone/testing';
import { subscriberPrincipal } from './access-plan.js';
import { kafkaConnection } from './credentials.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

jest.setTimeout(60_000);

const A = 'FR-NCB';
const B = 'DE-NCB';
const T = topicNames();

interface KafkaError {
  name?: string;
  type?: string;
  message?: string;
  errors?: KafkaError[];
}

// KafkaJS sometimes rewraps a broker error as KafkaJSNonRetriableError, keeping only the message; the
// message is the one KafkaJS's own error-code table holds for that code, so it maps back to the code's name.
const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
  errorCodes: Array<{ type: string; message: string }>;
};

/** The broker's error name (TOPIC_AUTHORIZATION_FAILED, ...) behind a KafkaJS error. */
function brokerError(err: KafkaError): string | undefined {
  if (err.type) return err.type;
  return errorCodes.find((c) => err.message?.includes(c.message))?.type;
}

async function refusal(action: Promise<unknown>): Promise<KafkaError> {
  try {
    await action;
  } catch (err) {
    return err as KafkaError;
  }
  throw new Error('expected the broker to refuse, but the call succeeded');
}

/** The error a running consumer crashes with (KafkaJS reports fetch/group failures only through this event). */
function crashOf(consumer: Consumer): Promise<KafkaError> {
  return new Promise((resolve) => consumer.on(consumer.events.CRASH, (e) => resolve(e.payload.error as KafkaError)));
}

interface RawBroker {
  findGroupCoordinator(req: { groupId: string; coordinatorType: number }): Promise<unknown>;
}
interface RawCluster {
  connect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  disconnect(): Promise<void>;
  findControllerBroker(): Promise<RawBroker>;
}

/**
 * KafkaJS's consumer turns the broker's GROUP_AUTHORIZATION_FAILED into "group coordinator not found";
 * its internal cluster object sends the FindCoordinator request directly so the broker's own error shows.
 */
function rawCluster(kafka: Kafka): RawCluster {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!create) throw new Error('kafkajs internals changed: no createCluster symbol');
  // The symbol-keyed factory is private kafkajs API (pinned at 2.2.4), so it is not in the typings.
  const factory = (kafka as unknown as Record<symbol, (o: object) => RawCluster>)[create];
  return factory({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
}

const describeIfLocal = hasServicePrincipals() ? describe : describe.skip;

describeIfLocal('access control on the local broker (issue #7)', () => {
  let agencyA: Kafka;

  beforeAll(() => {
    agencyA = testKafka(subscriberPrincipal(A), uniqueName('attacker'));
  });

  describe(`agency ${A} (a curious agency, or a compromised subscriber)`, () => {
    it(`cannot read agency ${B}'s feed`, async () => {
      const consumer = agencyA.consumer({ groupId: subscriberPrincipal(A) });
      await consumer.connect();
      try {
        const err = await refusal(consumer.subscribe({ topics: [T.feedFor(B)], fromBeginning: true }));
        expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED' });
      } finally {
        await consumer.disconnect();
      }
    });

    it(`cannot join agency ${B}'s consumer group`, async () => {
      const consumer = agencyA.consumer({ groupId: subscriberPrincipal(B) });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [T.feedFor(A)] });
        const crashed = crashOf(consumer);
        await consumer.run({ eachMessage: async () => undefined });
        expect(await crashed).toMatchObject({ name: 'KafkaJSGroupCoordinatorNotFound' });
      } finally {
        await consumer.disconnect();
      }
      const cluster = rawCluster(agencyA);
      await cluster.connect();
      try {
        await cluster.refreshMetadata();
        const broker = await cluster.findControllerBroker();
        const err = await refusal(broker.findGroupCoordinator({ groupId: subscriberPrincipal(B), coordinatorType: 0 }));
        expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' });
      } finally {
        await cluster.disconnect();
      }
    });

    it('cannot write any feed, its own included', async () => {
      const producer = agencyA.producer();
      await producer.connect();
      try {
        for (const topic of [T.feedFor(A), T.feedFor(B)]) {
          const err = await refusal(producer.send({ topic, acks: -1, messages: [{ value: 'forged alert' }] }));
          expect(brokerError(err)).toBe('TOPIC_AUTHORIZATION_FAILED');
        }
      } finally {
        await producer.disconnect();
      }
    });

    it('cannot read the inbound topic', async () => {
      const consumer = agencyA.consumer({ groupId: subscriberPrincipal(A) });
      await consumer.connect();
      try {
        const err = await refusal(consumer.subscribe({ topics: [T.submitted], fromBeginning: true }));
        expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED' });
      } finally {
        await consumer.disconnect();
      }
    });

    it('cannot read the audit topic it writes to', async () => {
      // It may DESCRIBE audit.events (its producer needs the metadata), so the refusal comes at FETCH.
      const consumer = agencyA.consumer({ groupId: subscriberPrincipal(A) });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [T.audit], fromBeginning: true });
        const crashed = crashOf(consumer);
        await consumer.run({ eachMessage: async () => undefined });
        expect(brokerError(await crashed)).toBe('TOPIC_AUTHORIZATION_FAILED');
      } finally {
        await consumer.disconnect();
      }
    });

    it('cannot create or delete topics', async () => {
      const admin = agencyA.admin();
      await admin.connect();
      try {
        const created = await refusal(admin.createTopics({ topics: [{ topic: uniqueName('attacker-topic') }] }));
        expect(created.name).toBe('KafkaJSAggregateError');
        expect(created.errors?.map((e) => e.type)).toEqual(['TOPIC_AUTHORIZATION_FAILED']);
        const deleted = await refusal(admin.deleteTopics({ topics: [T.feedFor(B)], timeout: 5000 }));
        expect(deleted).toMatchObject({ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED' });
      } finally {
        await admin.disconnect();
      }
    });

    it('cannot grant itself access by altering ACLs', async () => {
      const admin = agencyA.admin();
      await admin.connect();
      try {
        const err = await refusal(
          admin.createAcls({
            acl: [
              {
                resourceType: AclResourceTypes.TOPIC,
                resourceName: T.feedFor(B),
                resourcePatternType: ResourcePatternTypes.LITERAL,
                principal: `User:${subscriberPrincipal(A)}`,
                host: '*',
                operation: AclOperationTypes.READ,
                permissionType: AclPermissionTypes.ALLOW,
              },
            ],
          }),
        );
        expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type: 'CLUSTER_AUTHORIZATION_FAILED' });
        const removed = await refusal(
          admin.deleteAcls({
            filters: [
              {
                resourceType: AclResourceTypes.ANY,
                resourcePatternType: ResourcePatternTypes.ANY,
                operation: AclOperationTypes.ANY,
                permissionType: AclPermissionTypes.ANY,
              },
            ],
          }),
        );
        expect(removed).toMatchObject({ name: 'KafkaJSProtocolError', type: 'CLUSTER_AUTHORIZATION_FAILED' });
      } finally {
        await admin.disconnect();
      }
    });
  });

  describe('credentials and transport', () => {
    let probes: Array<{ disconnect(): Promise<void> }> = [];
    afterAll(async () => {
      await Promise.all(probes.map((p) => p.disconnect().catch(() => undefined)));
      probes = [];
    });

    it('refuses a wrong password', async () => {
      const good = kafkaConnection(subscriberPrincipal(A));
      const admin = testKafka('x', uniqueName('wrong-password'), {
        ...good,
        sasl: { ...good.sasl, password: `${good.sasl.password}x` },
      }).admin();
      probes.push(admin);
      expect(await refusal(admin.connect())).toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    });

    it('refuses an unknown user', async () => {
      const good = kafkaConnection('admin');
      const admin = testKafka('x', uniqueName('unknown-user'), {
        ...good,
        sasl: { ...good.sasl, username: 'subscriber-XX-NOBODY' },
      }).admin();
      probes.push(admin);
      expect(await refusal(admin.connect())).toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    });

    it('refuses a plaintext (no TLS) connection, even with valid credentials', async () => {
      const { brokers, sasl } = kafkaConnection('admin');
      // Deliberately without `ssl`: the listener only speaks TLS and drops the connection.
      const plain = new kafkajs.Kafka({
        clientId: uniqueName('plaintext'),
        brokers,
        sasl,
        connectionTimeout: 3000,
        retry: { retries: 1 },
        logLevel: kafkajs.logLevel.NOTHING,
      });
      const admin = plain.admin();
      probes.push(admin);
      const err = await refusal(admin.connect());
      expect(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSConnectionError', 'KafkaJSConnectionClosedError']).toContain(err.name);
    });

    it('refuses a TLS connection to a client that does not trust the broker CA', async () => {
      const { brokers, sasl } = kafkaConnection('admin');
      const untrusting = new kafkajs.Kafka({
        clientId: uniqueName('no-ca'),
        brokers,
        sasl,
        ssl: true,
        connectionTimeout: 3000,
        retry: { retries: 0 },
        logLevel: kafkajs.logLevel.NOTHING,
      });
      const admin = untrusting.admin();
      probes.push(admin);
      const err = await refusal(admin.connect());
      expect(err.message).toMatch(/self[- ]signed|unable to verify|certificate/i);
    });
  });

  describe('services', () => {
    it('the notice publisher cannot read any feed', async () => {
      const consumer = testKafka('notice-publisher', uniqueName('publisher-reader')).consumer({ groupId: uniqueName('publisher-group') });
      await consumer.connect();
      try {
        const err = await refusal(consumer.subscribe({ topics: [T.feedFor(A)], fromBeginning: true }));
        expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type: 'TOPIC_AUTHORIZATION_FAILED' });
      } finally {
        await consumer.disconnect();
      }
    });

    it('only the audit logger may consume the audit topic', async () => {
      // The gate writes audit events but, even in its own group, is refused the records.
      const consumer = testKafka('policy-gate', uniqueName('gate-audit-reader')).consumer({ groupId: 'policy-gate' });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [T.audit], fromBeginning: true });
        const crashed = crashOf(consumer);
        await consumer.run({ eachMessage: async () => undefined });
        expect(brokerError(await crashed)).toBe('TOPIC_AUTHORIZATION_FAILED');
      } finally {
        await consumer.disconnect();
      }
      // The publisher cannot even locate the audit logger's group.
      const cluster = rawCluster(testKafka('notice-publisher', uniqueName('publisher-audit-group')));
      await cluster.connect();
      try {
        await cluster.refreshMetadata();
        const broker = await cluster.findControllerBroker();
        const err = await refusal(broker.findGroupCoordinator({ groupId: 'audit-logger', coordinatorType: 0 }));
        expect(err).toMatchObject({ name: 'KafkaJSProtocolError', type: 'GROUP_AUTHORIZATION_FAILED' });
      } finally {
        await cluster.disconnect();
      }
    });
  });
});
