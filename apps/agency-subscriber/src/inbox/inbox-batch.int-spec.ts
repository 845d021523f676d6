import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { openSubscriberDatabase, subscriberSchemaFor } from '@backbone/inbox-store';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import type { Alert, MsgType } from '@backbone/codec';
import { alertOf, deliveryOf } from '../subscriber.test-kit.js';
import { InboxStore, type DeliveredVersion } from './inbox.store.js';

jest.setTimeout(120_000);

// Two agencies' schemas in one database: one stores record by record, the other in one batch.
const ONE_BY_ONE = 'DE-NCB';
const BATCHED = 'FR-NCB';
let db: TestDatabase;
const sources: DataSource[] = [];

async function storeFor(agency: string): Promise<InboxStore> {
  const source = await openSubscriberDatabase(db.url, agency, 2);
  sources.push(source);
  return new InboxStore(source, agency, subscriberSchemaFor(agency));
}

beforeAll(async () => {
  db = await createTestDatabase({ label: 'inbox_batch' });
});

afterAll(async () => {
  for (const s of sources) await s.destroy();
  await db.drop();
});

/** A small deterministic generator, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * A feed with everything that makes order matter: new alerts, updates, cancels, versions arriving
 * late, redelivered copies, versions after a cancel.
 */
function feedOf(seed: number, length: number): { alert: Alert; msgType: MsgType }[] {
  const next = random(seed);
  const alerts = Array.from({ length: 6 }, (_, i) => alertOf({ headline: `Alert ${seed}/${i}` }));
  const out: { alert: Alert; msgType: MsgType }[] = [];
  for (let i = 0; i < length; i++) {
    const base = alerts[Math.floor(next() * alerts.length)]!;
    const version = 1 + Math.floor(next() * 4);
    const roll = next();
    const msgType: MsgType = version === 1 ? 'Alert' : roll < 0.2 ? 'Cancel' : 'Update';
    out.push({ alert: { ...base, version, msgType, headline: `${base.headline} v${version}` }, msgType });
  }
  return out;
}

/** The inbox as a desk and the audit trail would see it, without the columns that carry the time of storing. */
async function snapshot(store: InboxStore): Promise<unknown> {
  const q = (sql: string): Promise<unknown> => store.dataSource.query(sql);
  return {
    alerts: await q(
      `SELECT alert_id, version, msg_type, state, sender, headline, description, content, execution_flags, no_reshare, redacted_groups, last_seq
       FROM alerts ORDER BY alert_id`,
    ),
    versions: await q(
      `SELECT alert_id, version, seq, delivery_id, msg_type, headline, description, content, recall, replay FROM alert_versions ORDER BY seq`,
    ),
    outbox: (await q(`SELECT count(*)::int AS n FROM audit_outbox`)) as unknown,
  };
}

describe('InboxStore.storeDeliveries (real PostgreSQL)', () => {
  it('leaves the inbox exactly as storing the same records one by one does', async () => {
    const oneByOne = await storeFor(ONE_BY_ONE);
    const batched = await storeFor(BATCHED);
    for (const seed of [1, 2, 3, 4, 5]) {
      const feed = feedOf(seed, 40);
      const items = (agency: string): DeliveredVersion[] =>
        feed.map(({ alert }, i) => ({
          alert,
          delivery: deliveryOf(agency, alert, { deliveryId: `00000000-0000-4000-8000-${String(seed * 1000 + i).padStart(12, '0')}` }),
        }));
      const single = [];
      for (const item of items(ONE_BY_ONE)) single.push(await oneByOne.storeDelivery(item.delivery, item.alert));
      const together = await batched.storeDeliveries(items(BATCHED));
      expect(together).toEqual(single);
      expect(single.some((o) => !o.stored)).toBe(true);
      expect(single.some((o) => o.stored && o.effect === 'CANCELLED')).toBe(true);
      expect(await snapshot(batched)).toEqual(await snapshot(oneByOne));
    }
  });

  it('stores nothing again when the whole batch is redelivered, and ignores another agency’s deliveries', async () => {
    const store = await storeFor('IT-NCB');
    const alerts = Array.from({ length: 5 }, () => alertOf());
    const items = alerts.map((alert) => ({ alert, delivery: deliveryOf('IT-NCB', alert) }));
    const foreign = alertOf();
    const first = await store.storeDeliveries([...items, { alert: foreign, delivery: deliveryOf('NL-NCB', foreign) }]);
    expect(first.map((o) => o.stored)).toEqual([true, true, true, true, true, false]);
    expect(first[5]).toEqual({ stored: false, reason: 'WRONG_RECIPIENT' });
    const again = await store.storeDeliveries(items);
    expect(again).toEqual(items.map(() => ({ stored: false, reason: 'DUPLICATE' })));
    expect(await store.versionCount()).toBe(5);
  });
});
