import { afterEach, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { deadLetterCodec, deliveryCodec } from '@backbone/codec';
import { CONSUMER_PROGRESS_CHECK, DEFAULT_CONSUMER_SAFETY, type ConsumerSafetySettings } from '@backbone/kafka';
import { pollUntil } from '@backbone/testing';
import { alertOf, deliveryOf, produceDeliveries } from '../subscriber.test-kit.js';
import { FeedTestWorld } from './feed.test-world.js';

jest.setTimeout(120_000);

const DE = 'DE-NCB';
/** Quick retries and a short stall window, so the test sees both within seconds. */
const FAST: ConsumerSafetySettings = {
  ...DEFAULT_CONSUMER_SAFETY,
  CONSUMER_RETRY_BACKOFF_MS: 20,
  CONSUMER_RETRY_BACKOFF_MAX_MS: 200,
  CONSUMER_STALL_AFTER_MS: 1_500,
  CONSUMER_PROGRESS_INTERVAL_MS: 250,
};

let world: FeedTestWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('feed consumer poison handling (real broker and PostgreSQL)', () => {
  it('parks a well-formed alert PostgreSQL refuses (NUL in the headline) and keeps the partition flowing', async () => {
    world = await new FeedTestWorld('poison', DE, FAST).init();
    const sub = await world.start();
    const before = alertOf({ headline: 'Before the poison' });
    const poison = alertOf({ headline: 'Wanted\u0000person' });
    const after = alertOf({ headline: 'After the poison' });
    const poisonDelivery = deliveryOf(DE, poison);
    await produceDeliveries(world.producer, world.feed, [deliveryOf(DE, before), poisonDelivery, deliveryOf(DE, after)]);

    await pollUntil(async () => (await sub.inbox.versionCount(after.alertId)) === 1, {
      description: 'the alert behind the poison stored',
      timeoutMs: 60_000,
    });
    expect(await sub.inbox.versionCount(before.alertId)).toBe(1);
    expect(await sub.inbox.versionCount(poison.alertId)).toBe(0);

    const [letter, ...more] = await world.read(world.parked, (b) => deadLetterCodec.decode(b), 1);
    expect(more).toHaveLength(0);
    expect(letter).toMatchObject({
      service: `subscriber-${DE}`,
      sourceTopic: world.feed,
      sourcePartition: 0,
      sourceOffset: 1,
      reason: 'UNSTORABLE',
    });
    expect(letter!.detail).toMatch(/^SQLSTATE 22/);
    // The original bytes, whole: an operator can repair and re-drive them.
    expect(letter!.value!.equals(deliveryCodec.encode(poisonDelivery))).toBe(true);

    const metrics = await world.text('/metrics');
    expect(metrics.body).toContain(`consumer_records_parked_total{topic="${world.feed}",reason="UNSTORABLE"} 1`);
    expect(metrics.body).toMatch(/consumer_retries_total\{topic="[^"]+",reason="sqlstate_22[0-9A-Z]{3}"\} [1-9]/);
    // Nothing is stuck: once the group committed past everything, the service is ready.
    await pollUntil(async () => (await world!.text('/health/ready')).status === 200, {
      description: 'ready after parking',
      timeoutMs: 30_000,
    });
  });

  it('parks undecodable bytes with their codec reason', async () => {
    world = await new FeedTestWorld('poison', DE, FAST).init();
    const sub = await world.start();
    const after = alertOf();
    await world.producer.send({ topic: world.feed, acks: -1, messages: [{ key: 'junk', value: Buffer.from('not avro at all') }] });
    await produceDeliveries(world.producer, world.feed, [deliveryOf(DE, after)]);
    await pollUntil(async () => (await sub.inbox.versionCount(after.alertId)) === 1, {
      description: 'the alert behind the junk stored',
      timeoutMs: 60_000,
    });
    const [letter] = await world.read(world.parked, (b) => deadLetterCodec.decode(b), 1);
    expect(letter).toMatchObject({ reason: 'UNDECODABLE', sourceOffset: 0 });
    expect(letter!.value!.toString()).toBe('not avro at all');
  });

  it('retries through a PostgreSQL outage in order, loses nothing, parks nothing, and is not-ready while stalled', async () => {
    world = await new FeedTestWorld('poison', DE, FAST).init();
    const sub = await world.start();
    const owner = new pg.Client({ connectionString: process.env['DATABASE_URL'] ?? world.db.url });
    await owner.connect();
    const dbName = world.db.name;
    try {
      // The outage: the database refuses new connections (SQLSTATE 55000) and every open one is cut (57P01).
      await owner.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
      await owner.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);
      const alerts = Array.from({ length: 5 }, (_, i) => alertOf({ headline: `During the outage ${i}` }));
      await produceDeliveries(
        world.producer,
        world.feed,
        alerts.map((a) => deliveryOf(DE, a)),
      );

      await pollUntil(
        async () => {
          const ready = await world!.text('/health/ready');
          const checks = (JSON.parse(ready.body) as { checks?: { name: string; ok: boolean }[] }).checks ?? [];
          return ready.status === 503 && checks.some((c) => c.name === CONSUMER_PROGRESS_CHECK && !c.ok);
        },
        { description: `not-ready with the ${CONSUMER_PROGRESS_CHECK} check`, timeoutMs: 30_000 },
      );
      expect((await world.text('/metrics')).body).toMatch(/consumer_partition_stalled\{topic="[^"]+",partition="0"\} 1/);

      await owner.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
      await pollUntil(async () => (await sub.inbox.versionCount()) === alerts.length, {
        description: 'every alert stored after the outage',
        timeoutMs: 60_000,
      });
      for (const a of alerts) expect(await sub.inbox.versionCount(a.alertId)).toBe(1);
      await pollUntil(async () => (await world!.text('/health/ready')).status === 200, { description: 'ready again', timeoutMs: 30_000 });
      const metrics = (await world.text('/metrics')).body;
      expect(metrics).not.toContain('consumer_records_parked_total{');
      expect(metrics).toMatch(/consumer_retries_total\{topic="[^"]+",reason="[^"]+"\} [1-9]/);
    } finally {
      await owner.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`).catch(() => undefined);
      await owner.end();
    }
  });
});
