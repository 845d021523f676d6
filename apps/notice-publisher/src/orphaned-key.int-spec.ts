// A publisher process SIGKILLed while requests were in flight leaves their Idempotency-Keys (and
// versions) pending, its Kafka transaction open or already committed. Its successor (same
// transactional.id, a new boot) must give a retried request one definitive answer at once, not
// "409 in progress" until the settle time has passed. Real broker, real PostgreSQL; the dead
// process is played by a transactional producer with the same id that is dropped without abort.
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin, Consumer } from 'kafkajs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { createLogger, startService } from '@backbone/bootstrap';
import { alertCodec } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { KafkaConfig, SUBMITTED_PARTITIONS, topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { alertInput, createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { PublisherConfig } from './config/publisher.config.js';
import { NoticePublisherModule } from './notice-publisher.module.js';
import { submittedPartition } from './publishing/region.partitioner.js';

const OFFICE = 'FR-NCB';

// No expiry: a retry must send the very same body (its hash is checked against the key's).
function alertBody(headline: string): Record<string, unknown> {
  return alertInput({ headline, urgency: 'Expected', expires: undefined });
}

describe('notice-publisher: a key left in progress by a dead process is answered at once by its successor', () => {
  const prefix = `${uniqueName('npo')}.`;
  const topics = topicNames(prefix);
  const transactionalId = `notice-publisher-${uniqueName('orphan')}`;
  let db: TestDatabase;
  let ds: DataSource;
  let admin: Admin;
  let reader: Consumer;
  let app: NestFastifyApplication | undefined;
  let url: string;
  let token: string;
  /** Every committed record of alerts.submitted: alert id and headline. */
  const submitted: { key: string; headline: string }[] = [];
  const readUpTo = new Map<number, bigint>();

  const post = async (path: string, body: unknown, key: string) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  const allSubmitted = async (): Promise<{ key: string; headline: string }[]> => {
    const ends = await admin.fetchTopicOffsets(topics.submitted);
    await pollUntil(() => ends.every((e) => BigInt(e.high) === 0n || (readUpTo.get(e.partition) ?? -1n) + 1n >= BigInt(e.high)), {
      description: 'the reader at the end of alerts.submitted',
      timeoutMs: 30_000,
    });
    return [...submitted];
  };

  /** What a request of the dead process left: its key and version pending, reserved just now by another boot. */
  const leavePending = async (key: string, headline: string, owner: { txid: string; boot: string }) => {
    const alert = sampleAlert({ alertId: randomUUID(), sent: new Date(), headline, sender: OFFICE, senderRegion: 'EUROPE' });
    const record = alertCodec.encode(alert);
    const hash = createHash('sha256')
      .update(`POST /alerts ${JSON.stringify(alertBody(headline))}`)
      .digest('hex');
    await ds.query(
      `INSERT INTO alert_versions (alert_id, version, msg_type, state, sent, record) VALUES ($1, 1, 'Alert', 'pending', $2, $3)`,
      [alert.alertId, alert.sent, record],
    );
    await ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state, alert_id, alert_version, owner_txid, owner_boot)
       VALUES ($1, $2, $3, 'pending', $4, 1, $5, $6)`,
      [OFFICE, key, hash, alert.alertId, owner.txid, owner.boot],
    );
    return { alertId: alert.alertId, record, partition: submittedPartition('EUROPE', alert.alertId) };
  };

  const committedKey = uniqueName('committed');
  const openKey = uniqueName('open');
  const otherReplicaKey = uniqueName('other-replica');
  let committedAlertId = '';
  let openAlertId = '';

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'publisher_orphans' });
    ds = await openPublisherDatabase(db.url, 2);
    token = (await new CredentialStore(ds).issue(OFFICE)).token;
    admin = testKafka('admin').admin();
    await admin.connect();
    await createTopics(admin, [topics.submitted], SUBMITTED_PARTITIONS);
    await createTopics(admin, [topics.audit], 3);
    reader = testKafka('admin', uniqueName('npo-reader')).consumer({ groupId: uniqueName('npo-reader'), readUncommitted: false });
    reader.on(reader.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topics.submitted) readUpTo.set(payload.partition, BigInt(payload.lastOffset));
    });
    await reader.connect();
    await reader.subscribe({ topics: [topics.submitted], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        submitted.push({ key: message.key!.toString(), headline: alertCodec.decode(message.value!).headline });
      },
    });

    // The dead process: same transactional.id, another boot. One request's transaction committed
    // (killed before PostgreSQL recorded it), another's still open (killed inside the transaction).
    const deadBoot = { txid: transactionalId, boot: randomUUID() };
    const committed = await leavePending(committedKey, committedKey, deadBoot);
    const open = await leavePending(openKey, openKey, deadBoot);
    committedAlertId = committed.alertId;
    openAlertId = open.alertId;
    const dead = testKafka('admin', 'dead-publisher').producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await dead.connect();
    const t1 = await dead.transaction();
    await t1.send({
      topic: topics.submitted,
      messages: [{ key: committed.alertId, value: committed.record, partition: committed.partition }],
    });
    await t1.commit();
    const t2 = await dead.transaction();
    await t2.send({ topic: topics.submitted, messages: [{ key: open.alertId, value: open.record, partition: open.partition }] });
    // SIGKILL: no abort, no commit; only the connections go.
    await dead.disconnect();
    // A live replica's request (another transactional.id), reserved just now: not the successor's to settle.
    await leavePending(otherReplicaKey, otherReplicaKey, { txid: `notice-publisher-${uniqueName('replica')}`, boot: randomUUID() });

    const config = PublisherConfig.of({
      PORT: 0,
      DATABASE_URL: db.url,
      PUBLISH_TRANSACTIONAL_ID: transactionalId,
      PUBLISH_TIMEOUT_MS: 4000,
      // Far beyond the test: an answer can only come from knowing the owner is an earlier boot.
      RECONCILE_SETTLE_MS: 600_000,
      RECONCILE_INTERVAL_MS: 600_000,
    });
    const service = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({ kafka: KafkaConfig.of(testKafkaConnection('admin'), prefix), config }),
      logger: createLogger('publisher-orphans-test', 'silent'),
      port: 0,
      shutdownHooks: false,
    });
    app = service.app;
    url = service.url;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await reader?.disconnect();
    if (admin) {
      await deleteTopics(admin, [topics.submitted, topics.audit]).catch(() => undefined);
      await admin.disconnect();
    }
    await ds?.destroy();
    await db?.drop();
  }, 60_000);

  it('a request whose transaction committed before the crash gets 201 with its alert id, published once', async () => {
    const retry = await post('/alerts', alertBody(committedKey), committedKey);
    expect(retry).toMatchObject({ status: 201, json: { alertId: committedAlertId, version: 1 } });
    const again = await post('/alerts', alertBody(committedKey), committedKey);
    expect(again.json).toEqual(retry.json);
    expect((await allSubmitted()).filter((r) => r.headline === committedKey)).toEqual([{ key: committedAlertId, headline: committedKey }]);
    // Recorded, so the office can go on with it.
    const update = await post(`/alerts/${committedAlertId}/updates`, alertBody(`${committedKey} updated`), uniqueName('update'));
    expect(update).toMatchObject({ status: 201, json: { version: 2 } });
  });

  it('a request whose transaction was still open is published now, once, under a new alert id', async () => {
    const retry = await post('/alerts', alertBody(openKey), openKey);
    expect(retry.status).toBe(201);
    expect(retry.json['alertId']).not.toBe(openAlertId);
    const onKafka = (await allSubmitted()).filter((r) => r.headline === openKey);
    expect(onKafka).toEqual([{ key: retry.json['alertId'], headline: openKey }]);
  });

  it("another replica's fresh reservation is left alone: 409 in progress", async () => {
    const retry = await post('/alerts', alertBody(otherReplicaKey), otherReplicaKey);
    expect(retry).toMatchObject({ status: 409, json: { reason: 'idempotency-key-in-progress' } });
  });
});
