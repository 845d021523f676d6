import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { auditEventCodec, deadLetterCodec, deliveryCodec, type AuditEvent, type DeadLetter } from '@backbone/codec';
import { DEFAULT_CONSUMER_SAFETY, type ConsumerSafetySettings } from '@backbone/kafka';
import { pollUntil, uniqueName } from '@backbone/testing';
import { alertOf, deliveryOf, produceDeliveries } from '../subscriber.test-kit.js';
import { FeedTestWorld } from './feed.test-world.js';

jest.setTimeout(180_000);

const DE = 'DE-NCB';
const FAST: ConsumerSafetySettings = {
  ...DEFAULT_CONSUMER_SAFETY,
  CONSUMER_RETRY_BACKOFF_MS: 20,
  CONSUMER_RETRY_BACKOFF_MAX_MS: 200,
};

let world: FeedTestWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('feed consumer batches (real broker and PostgreSQL)', () => {
  it('stores every good record of a batch once when a poison record sits in its middle, and parks only the poison', async () => {
    world = await new FeedTestWorld('batch', DE, FAST).init();
    const good = Array.from({ length: 40 }, (_, i) => alertOf({ headline: `Good ${i}` }));
    const unstorable = alertOf({ headline: 'Wanted\u0000person' });
    const deliveries = good.map((a) => deliveryOf(DE, a));
    // Everything is on the feed before the subscriber starts, so the consumer fetches it as one
    // batch: 20 good, the unstorable one, 20 good, junk bytes, and a redelivered copy of the first.
    await produceDeliveries(world.producer, world.feed, [...deliveries.slice(0, 20), deliveryOf(DE, unstorable), ...deliveries.slice(20)]);
    await world.producer.send({ topic: world.feed, acks: -1, messages: [{ key: 'junk', value: Buffer.from('not avro at all') }] });
    await produceDeliveries(world.producer, world.feed, [deliveries[0]!]);

    const sub = await world.start();
    await world.caughtUp();
    for (const a of good) expect(await sub.inbox.versionCount(a.alertId)).toBe(1);
    expect(await sub.inbox.versionCount(unstorable.alertId)).toBe(0);
    expect(await sub.inbox.versionCount()).toBe(good.length);

    const letters: DeadLetter[] = await world.read(world.parked, (b) => deadLetterCodec.decode(b));
    expect(letters.map((l) => [l.sourceOffset, l.reason]).sort()).toEqual([
      [20, 'UNSTORABLE'],
      [41, 'UNDECODABLE'],
    ]);
    const rejected = (await sub.inbox.dataSource.query(`SELECT record_offset FROM rejected_records ORDER BY record_offset`)) as {
      record_offset: string;
    }[];
    expect(rejected.map((r) => Number(r.record_offset))).toEqual([20, 41]);
    // Stored in batches, not one transaction a record: rows of one transaction share its now().
    const transactions = (await sub.inbox.dataSource.query(`SELECT count(DISTINCT received_at) AS n FROM alert_versions`)) as {
      n: string;
    }[];
    expect(Number(transactions[0]!.n)).toBeLessThan(good.length / 2);

    // Each stored version was announced once: one DELIVERED event each, in inbox order.
    await pollUntil(async () => (await sub.relay.pending()) === 0, { description: 'outbox sent', timeoutMs: 30_000 });
    const delivered = (await world.read(world.topics.audit, (b) => auditEventCodec.decode(b))).filter((e) => e.type === 'DELIVERED');
    expect(delivered.map((e) => e.alertId).sort()).toEqual(good.map((a) => a.alertId).sort());
    const seqs = delivered.map((e) => Number(e.details['inboxSeq']));
    expect(new Set(seqs).size).toBe(good.length);
  });

  it('redelivers after a crash between the DB commit and the offset commit, and stores nothing twice', async () => {
    world = await new FeedTestWorld('batch', DE, FAST).init();
    const first = await world.start();
    let crashes = 0;
    // The crash at the worst moment: the chunk's transaction has committed, its offset has not.
    first.feed.afterStore = async () => {
      crashes++;
      throw new Error('simulated crash after the DB commit');
    };
    const updated = alertOf({ headline: 'First version' });
    const cancelled = alertOf({ headline: 'To be cancelled' });
    const plain = Array.from({ length: 20 }, (_, i) => alertOf({ headline: `Plain ${i}` }));
    const deliveries = [
      deliveryOf(DE, updated),
      ...plain.map((a) => deliveryOf(DE, a)),
      deliveryOf(DE, {
        ...updated,
        version: 2,
        msgType: 'Update',
        headline: 'Second version',
        references: [{ alertId: updated.alertId, version: 1 }],
      }),
      deliveryOf(DE, cancelled),
      deliveryOf(DE, { ...cancelled, version: 2, msgType: 'Cancel', references: [{ alertId: cancelled.alertId, version: 1 }] }),
    ];
    await produceDeliveries(world.producer, world.feed, deliveries);

    await pollUntil(async () => crashes > 0 && (await first.inbox.versionCount()) === deliveries.length, {
      description: 'everything stored, then the crash',
      timeoutMs: 60_000,
    });
    // Stored but never committed: a restart must get all of it again.
    const { committed, high } = await world.position();
    expect(committed < high).toBe(true);
    await first.close();

    const second = await world.start();
    await world.caughtUp();
    expect(await second.inbox.versionCount()).toBe(deliveries.length);
    for (const a of plain) expect(await second.inbox.versionCount(a.alertId)).toBe(1);
    expect(await second.inbox.versionCount(updated.alertId)).toBe(2);
    expect(await second.inbox.versionCount(cancelled.alertId)).toBe(2);
    const rows = (await second.inbox.dataSource.query(
      `SELECT alert_id, version, state, headline FROM alerts WHERE alert_id = ANY($1::uuid[])`,
      [[updated.alertId, cancelled.alertId]],
    )) as { alert_id: string; version: number; state: string; headline: string | null }[];
    expect(rows.find((r) => r.alert_id === updated.alertId)).toMatchObject({ version: 2, state: 'ACTIVE', headline: 'Second version' });
    expect(rows.find((r) => r.alert_id === cancelled.alertId)).toMatchObject({ version: 2, state: 'CANCELLED', headline: null });
    // The update keeps the history's content; the cancel, stored in the same batch, emptied every version of its alert.
    const history = (await second.inbox.dataSource.query(
      `SELECT alert_id, version, headline FROM alert_versions WHERE alert_id = ANY($1::uuid[]) ORDER BY alert_id, version`,
      [[updated.alertId, cancelled.alertId]],
    )) as { alert_id: string; version: number; headline: string | null }[];
    expect(history.filter((v) => v.alert_id === updated.alertId).map((v) => [v.version, v.headline])).toEqual([
      [1, 'First version'],
      [2, 'Second version'],
    ]);
    expect(history.filter((v) => v.alert_id === cancelled.alertId).map((v) => [v.version, v.headline])).toEqual([
      [1, null],
      [2, null],
    ]);

    await pollUntil(async () => (await second.relay.pending()) === 0, { description: 'outbox sent', timeoutMs: 30_000 });
    const delivered: AuditEvent[] = (await world.read(world.topics.audit, (b) => auditEventCodec.decode(b))).filter(
      (e) => e.type === 'DELIVERED',
    );
    expect(delivered.map((e) => `${e.alertId}/${e.alertVersion}`).sort()).toEqual(
      deliveries.map((d) => `${d.alertId}/${d.alertVersion}`).sort(),
    );
  });
  it('commits to the end of a feed that ends with several transaction markers (gate producers writing at once)', async () => {
    world = await new FeedTestWorld('batch', DE, FAST).init();
    // Two transactional producers, as two gate partitions (or replicas) deliver to one feed partition
    // at once: both records first, then both commit markers, so the partition ends with two markers.
    const writers = await Promise.all(
      ['one', 'two'].map(async (name) => {
        const p = world!.kafka.producer({ transactionalId: uniqueName(`batch-gate-${name}`), idempotent: true, maxInFlightRequests: 1 });
        await p.connect();
        return p;
      }),
    );
    try {
      const alerts = [alertOf({ headline: 'From one' }), alertOf({ headline: 'From two' })];
      const txns = [await writers[0]!.transaction(), await writers[1]!.transaction()];
      for (const [i, t] of txns.entries()) {
        await t.send({
          topic: world.feed,
          acks: -1,
          messages: [{ key: alerts[i]!.alertId, value: deliveryCodec.encode(deliveryOf(DE, alerts[i]!)) }],
        });
      }
      for (const t of txns) await t.commit();
      expect((await world.position()).high).toBe(4n);

      const sub = await world.start();
      // Committed offset at the high watermark, markers included: lag 0, nothing that looks stalled.
      await world.caughtUp();
      for (const a of alerts) expect(await sub.inbox.versionCount(a.alertId)).toBe(1);
    } finally {
      for (const w of writers) await w.disconnect().catch(() => undefined);
    }
  });
});
