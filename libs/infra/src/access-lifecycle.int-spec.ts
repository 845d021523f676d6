// The harness itself, on a private second broker (own BACKBONE_HOME and ports) so that starting, killing,
// re-bootstrapping and rotating never disturb the shared broker other tests are using:
// idempotent start, crash recovery, the bootstrap following the registry, each principal's positive
// rights, revocation and credential rotation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { EachMessagePayload, Kafka } from 'kafkajs';
import { topicNames } from '@backbone/kafka';
import { pollUntil, testKafka, uniqueName } from '@backbone/testing';
import { bootstrapAccess, rotateCredential } from './access.js';
import { brokerStatus, ensureBroker, stopBroker } from './broker.js';
import { kafkaConnection, readCredentials } from './credentials.js';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

jest.setTimeout(180_000);

const T = topicNames();
const home = mkdtempSync(join(tmpdir(), 'backbone-harness-'));
// Clear of the shared broker's 19092/19192 and of each other's 3-node ranges.
const env = { BACKBONE_KAFKA_PORT: '19392', BACKBONE_KAFKA_CONTROLLER_PORT: '19492', BACKBONE_KAFKA_HEAP: '384m' };
const opts = { home, env, log: (): void => undefined };

function registry(...codes: string[]): string {
  const file = join(home, `registry-${codes.join('_') || 'none'}.yaml`);
  const agencies = codes.map((code) => `  - { code: ${code}, name: "test ${code}", country: XX, region: EUROPE }`).join('\n');
  writeFileSync(file, `version: "test"\nagencies:\n${agencies}\n`);
  return file;
}

function client(principal: string): Kafka {
  return testKafka(principal, uniqueName(`lifecycle-${principal}`), kafkaConnection(principal, { home }));
}

async function consumeOne(kafka: Kafka, groupId: string, topic: string): Promise<string> {
  const consumer = kafka.consumer({ groupId });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }: EachMessagePayload) => void seen.push(message.value?.toString() ?? '') });
    return await pollUntil(() => seen[0], { description: `a record on ${topic} for ${groupId}`, timeoutMs: 30_000 });
  } finally {
    await consumer.disconnect();
  }
}

describe('broker harness and access bootstrap (private broker)', () => {
  beforeAll(() => undefined);
  afterAll(async () => {
    await stopBroker(opts).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  });

  let firstPid: number | null = null;

  it('starts a secured broker from nothing', async () => {
    const info = await ensureBroker(opts);
    expect(info.brokers).toEqual(['127.0.0.1:19392']);
    const status = await brokerStatus(opts);
    expect(status).toMatchObject({ up: true, nodes: 1 });
    firstPid = status.members[0]?.pid ?? null;
    expect(firstPid).toEqual(expect.any(Number));
  });

  it('is a quick no-op when already up', async () => {
    const started = Date.now();
    await ensureBroker(opts);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await brokerStatus(opts)).members[0]?.pid).toBe(firstPid);
  });

  it('notices a killed broker and starts it again', async () => {
    process.kill(firstPid as number, 'SIGKILL');
    await pollUntil(async () => !(await brokerStatus(opts)).up, { description: 'the killed broker to be seen as down' });
    await ensureBroker(opts);
    const status = await brokerStatus(opts);
    expect(status.up).toBe(true);
    expect(status.members[0]?.pid).not.toBe(firstPid);
  });

  it('bootstraps principals, topics and ACLs from the registry, idempotently', async () => {
    const first = await bootstrapAccess(registry('AA-NCB', 'BB-NCB'), opts);
    expect(first.principalsCreated.sort()).toEqual([
      'audit-logger',
      'notice-publisher',
      'policy-gate',
      'subscriber-AA-NCB',
      'subscriber-BB-NCB',
    ]);
    expect(first.topicsCreated).toEqual(
      expect.arrayContaining([T.submitted, T.audit, T.deadLetter, T.feedFor('AA-NCB'), T.feedFor('BB-NCB')]),
    );
    expect(first.aclsCreated).toBeGreaterThan(20);

    const again = await bootstrapAccess(registry('AA-NCB', 'BB-NCB'), { ...opts, force: true });
    expect(again).toMatchObject({
      principalsCreated: [],
      principalsDeleted: [],
      topicsCreated: [],
      aclsCreated: 0,
      aclsDeleted: 0,
      skipped: false,
    });
    expect((await bootstrapAccess(registry('AA-NCB', 'BB-NCB'), opts)).skipped).toBe(true);
  });

  it('lets every principal do what its service must', async () => {
    // The publisher commits an alert and its SUBMITTED audit event in one transaction.
    const publisher = client('notice-publisher').producer({
      transactionalId: 'notice-publisher-lifecycle',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await publisher.connect();
    const submitted = await publisher.transaction();
    await submitted.send({ topic: T.submitted, acks: -1, messages: [{ key: 'alert-1', value: 'submitted-1' }] });
    await submitted.send({ topic: T.audit, acks: -1, messages: [{ value: 'audit-submitted' }] });
    await submitted.commit();
    await publisher.disconnect();

    // The gate: read inbound in its group, then feed + dead letter + audit + offsets in one transaction.
    const gate = client('policy-gate');
    expect(await consumeOne(gate, 'policy-gate', T.submitted)).toBe('submitted-1');
    const tx = gate.producer({ transactionalId: 'policy-gate-lifecycle', idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const batch = await tx.transaction();
    await batch.send({ topic: T.feedFor('AA-NCB'), messages: [{ key: 'alert-1', value: 'delivered-1' }] });
    await batch.send({ topic: T.deadLetter, messages: [{ value: 'dead-1' }] });
    await batch.send({ topic: T.audit, messages: [{ value: 'audit-decided' }] });
    await batch.sendOffsets({
      consumerGroupId: 'policy-gate',
      topics: [{ topic: T.submitted, partitions: [{ partition: 0, offset: '1' }] }],
    });
    await batch.commit();
    await tx.disconnect();

    const subscriber = client('subscriber-AA-NCB');
    expect(await consumeOne(subscriber, 'subscriber-AA-NCB', T.feedFor('AA-NCB'))).toBe('delivered-1');
    const ack = subscriber.producer({ idempotent: true, maxInFlightRequests: 1 });
    await ack.connect();
    await ack.send({ topic: T.audit, acks: -1, messages: [{ value: 'audit-acknowledged' }] });
    await ack.disconnect();

    const auditLogger = client('audit-logger');
    expect(await consumeOne(auditLogger, 'audit-logger', T.audit)).toMatch(/^audit-/);
    const replay = auditLogger.producer();
    await replay.connect();
    await replay.send({ topic: T.feedFor('BB-NCB'), acks: -1, messages: [{ value: 'replayed-1' }] });
    await replay.disconnect();
  });

  it('follows the registry: a new agency gets access, a removed one loses it (its topic stays)', async () => {
    const before = readCredentials({ home }).principals['subscriber-BB-NCB'];
    expect(before).toBeDefined();
    const report = await bootstrapAccess(registry('AA-NCB', 'CC-NCB'), opts);
    expect(report.principalsCreated).toEqual(['subscriber-CC-NCB']);
    expect(report.principalsDeleted).toEqual(['subscriber-BB-NCB']);
    expect(report.topicsCreated).toEqual([T.feedFor('CC-NCB'), T.parkedFor('subscriber-CC-NCB')]);
    expect(report.aclsDeleted).toBe(7); // 5 as before, plus WRITE and DESCRIBE on its parked topic
    expect(readCredentials({ home }).principals['subscriber-BB-NCB']).toBeUndefined();

    const cc = client('subscriber-CC-NCB').consumer({ groupId: 'subscriber-CC-NCB' });
    await cc.connect();
    await cc.subscribe({ topics: [T.feedFor('CC-NCB')] });
    await cc.disconnect();

    const stale = testKafka('subscriber-BB-NCB', uniqueName('revoked'), {
      ...kafkaConnection('admin', { home }),
      sasl: { mechanism: 'scram-sha-512', username: 'subscriber-BB-NCB', password: before as string },
    }).admin();
    await expect(stale.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });

    const admin = client('admin').admin();
    await admin.connect();
    try {
      const acls = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        principal: 'User:subscriber-BB-NCB',
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      expect(acls.resources).toEqual([]);
      expect(await admin.listTopics()).toContain(T.feedFor('BB-NCB'));
    } finally {
      await admin.disconnect();
    }
  });

  it('rotates a credential: the old password stops working, the new one works', async () => {
    const old = kafkaConnection('subscriber-AA-NCB', { home });
    await rotateCredential('subscriber-AA-NCB', opts);
    const fresh = kafkaConnection('subscriber-AA-NCB', { home });
    expect(fresh.sasl.password).not.toBe(old.sasl.password);
    const oldAdmin = testKafka('x', uniqueName('old-password'), old).admin();
    await expect(oldAdmin.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    const newAdmin = testKafka('x', uniqueName('new-password'), fresh).admin();
    await newAdmin.connect();
    await newAdmin.disconnect();
  });

  it('stops', async () => {
    await stopBroker(opts);
    expect((await brokerStatus(opts)).up).toBe(false);
  });
});
