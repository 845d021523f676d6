// A publisher process SIGKILLed while requests were in flight leaves their Idempotency-Keys (and
// versions) pending, its Kafka transaction open or already committed. Its successor (same
// transactional.id, a new boot) must give a retried request one definitive answer at once, not
// "409 in progress" until the settle time has passed. Real broker, real PostgreSQL; the dead
// process is played by a transactional producer with the same id that is dropped without abort.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { alertCodec } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { testKafka, uniqueName } from '@backbone/testing';
import { submittedPartition } from './publishing/region.partitioner.js';
import { PublisherTestWorld, stableAlertBody } from './publisher.test-world.js';

const OFFICE = 'FR-NCB';

describe('notice-publisher: a key left in progress by a dead process is answered at once by its successor', () => {
  const world = new PublisherTestWorld('npo');
  const topics = world.topics;
  const transactionalId = `notice-publisher-${uniqueName('orphan')}`;
  let ds: DataSource;

  const post = async (path: string, body: unknown, key: string) => {
    const res = await fetch(`${world.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.tokens[OFFICE]}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  /** Every committed record of alerts.submitted: alert id and headline. */
  const allSubmitted = async (): Promise<{ key: string; headline: string }[]> =>
    (await world.allSubmitted()).map((r) => ({ key: r.key, headline: alertCodec.decode(r.value).headline }));

  /** What a request of the dead process left: its key and version pending, reserved just now by another boot. */
  const leavePending = async (key: string, headline: string, owner: { txid: string; boot: string }) => {
    const alert = sampleAlert({ alertId: randomUUID(), sent: new Date(), headline, sender: OFFICE, senderRegion: 'EUROPE' });
    const record = alertCodec.encode(alert);
    const hash = createHash('sha256')
      .update(`POST /alerts ${JSON.stringify(stableAlertBody({ headline }))}`)
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
    await world.open([OFFICE]);
    ds = world.ds;

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

    await world.startPublisher({
      PUBLISH_TRANSACTIONAL_ID: transactionalId,
      PUBLISH_TIMEOUT_MS: 4000,
      // Far beyond the test: an answer can only come from knowing the owner is an earlier boot.
      RECONCILE_SETTLE_MS: 600_000,
      RECONCILE_INTERVAL_MS: 600_000,
    });
  }, 120_000);

  afterAll(async () => {
    await world.close();
  }, 60_000);

  it('a request whose transaction committed before the crash gets 201 with its alert id, published once', async () => {
    const retry = await post('/alerts', stableAlertBody({ headline: committedKey }), committedKey);
    expect(retry).toMatchObject({ status: 201, json: { alertId: committedAlertId, version: 1 } });
    const again = await post('/alerts', stableAlertBody({ headline: committedKey }), committedKey);
    expect(again.json).toEqual(retry.json);
    expect((await allSubmitted()).filter((r) => r.headline === committedKey)).toEqual([{ key: committedAlertId, headline: committedKey }]);
    // Recorded, so the office can go on with it.
    const update = await post(
      `/alerts/${committedAlertId}/updates`,
      stableAlertBody({ headline: `${committedKey} updated` }),
      uniqueName('update'),
    );
    expect(update).toMatchObject({ status: 201, json: { version: 2 } });
  });

  it('a request whose transaction was still open is published now, once, under a new alert id', async () => {
    const retry = await post('/alerts', stableAlertBody({ headline: openKey }), openKey);
    expect(retry.status).toBe(201);
    expect(retry.json['alertId']).not.toBe(openAlertId);
    const onKafka = (await allSubmitted()).filter((r) => r.headline === openKey);
    expect(onKafka).toEqual([{ key: retry.json['alertId'], headline: openKey }]);
  });

  it("another replica's fresh reservation is left alone: 409 in progress", async () => {
    const retry = await post('/alerts', stableAlertBody({ headline: otherReplicaKey }), otherReplicaKey);
    expect(retry).toMatchObject({ status: 409, json: { reason: 'idempotency-key-in-progress' } });
  });
});
