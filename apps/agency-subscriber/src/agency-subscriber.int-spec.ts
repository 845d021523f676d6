import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Partitioners, type Producer } from 'kafkajs';
import { hashToken, issueToken } from '@backbone/auth';
import { auditEventCodec, type AuditEvent } from '@backbone/codec';
import { createLogger } from '@backbone/bootstrap';
import { topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, hasServicePrincipals, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { queueAuditEvent } from './audit/audit.outbox.js';
import { AuditRelay } from './audit/audit.relay.js';
import { openSubscriberDatabase } from '@backbone/inbox-store';
import {
  alertOf,
  deliveryOf,
  getJson,
  openStream,
  produceDeliveries,
  startTestSubscriber,
  type RunningAgencySubscriber,
  type SseReader,
  type StartAgencySubscriberOptions,
} from './subscriber.test-kit.js';

jest.setTimeout(90_000);

const FR = 'FR-NCB';
const DE = 'DE-NCB';
const logger = createLogger('agency-subscriber-test', process.env['LOG_LEVEL'] ?? 'warn');

/** One isolated world per test: its own topic prefix, database and producer. */
class World {
  readonly prefix = `${uniqueName('sub')}.`;
  readonly topics = topicNames(this.prefix);
  readonly admin = testKafka('admin', uniqueName('sub-admin')).admin();
  readonly kafka = testKafka('admin', uniqueName('sub-producer'));
  producer!: Producer;
  db!: TestDatabase;
  readonly running: RunningAgencySubscriber[] = [];
  readonly streams: SseReader[] = [];

  async init(agencies: string[]): Promise<this> {
    await this.admin.connect();
    await createTopics(this.admin, [...agencies.map((a) => this.topics.feedFor(a)), this.topics.audit]);
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.db = await createTestDatabase({ label: 'subscriber' });
    return this;
  }

  async start(agency: string, extra: Partial<StartAgencySubscriberOptions> = {}): Promise<RunningAgencySubscriber> {
    const sub = await startTestSubscriber({
      agency,
      kafka: testKafkaConnection('admin'),
      prefix: this.prefix,
      databaseUrl: this.db.url,
      logger,
      heartbeatMs: 1000,
      ...extra,
    });
    this.running.push(sub);
    return sub;
  }

  async stream(sub: RunningAgencySubscriber, token: string, lastEventId?: number): Promise<SseReader> {
    const s = await openStream(sub.url, token, lastEventId);
    this.streams.push(s);
    return s;
  }

  async auditEvents(): Promise<AuditEvent[]> {
    const consumer = testKafka('admin', uniqueName('sub-audit')).consumer({ groupId: uniqueName('sub-audit-group') });
    const offsets = await this.admin.fetchTopicOffsets(this.topics.audit);
    const total = offsets.reduce((n, o) => n + Number(o.high), 0);
    const events: AuditEvent[] = [];
    if (total === 0) return events;
    await consumer.connect();
    await consumer.subscribe({ topic: this.topics.audit, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void events.push(auditEventCodec.decode(message.value!)) });
    await pollUntil(() => events.length >= total, { description: `${total} audit events`, timeoutMs: 30_000 });
    await consumer.disconnect();
    return events;
  }

  async close(): Promise<void> {
    for (const s of this.streams) await s.close();
    for (const sub of this.running) await sub.close().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await deleteTopics(this.admin, [this.topics.feedFor(FR), this.topics.feedFor(DE), this.topics.audit]).catch(() => undefined);
    await this.admin.disconnect();
    await this.db?.drop();
  }
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function waitStored(sub: RunningAgencySubscriber, alertId: string, versions = 1): Promise<void> {
  await pollUntil(async () => (await sub.inbox.versionCount(alertId)) >= versions, {
    description: `${versions} version(s) of ${alertId} stored`,
    timeoutMs: 30_000,
  });
}

describe('agency subscriber (real broker and PostgreSQL)', () => {
  it('stores each version exactly once under redelivery, ledger replay and restart with the same group', async () => {
    world = await new World().init([FR]);
    let sub = await world.start(FR);
    const feed = world.topics.feedFor(FR);
    const alert = alertOf({ headline: 'Once only' });
    const first = deliveryOf(FR, alert);
    await produceDeliveries(world.producer, feed, [first, first, deliveryOf(FR, alert, { replay: true })]);
    const sentinel = alertOf();
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, sentinel)]);
    await waitStored(sub, sentinel.alertId);
    expect(await sub.inbox.versionCount(alert.alertId)).toBe(1);
    expect(await sub.inbox.versionCount()).toBe(2);

    await sub.close();
    sub = await world.start(FR);
    const after = alertOf();
    await produceDeliveries(world.producer, feed, [first, deliveryOf(FR, alert, { replay: true }), deliveryOf(FR, after)]);
    await waitStored(sub, after.alertId);
    expect(await sub.inbox.versionCount(alert.alertId)).toBe(1);
    expect(await sub.inbox.versionCount()).toBe(3);

    // One DELIVERED per stored version, none for the duplicates.
    await pollUntil(async () => (await sub.relay.pending()) === 0, { description: 'audit outbox drained' });
    const delivered = (await world.auditEvents()).filter((e) => e.type === 'DELIVERED');
    expect(delivered.map((e) => e.alertId).sort()).toEqual([alert.alertId, sentinel.alertId, after.alertId].sort());
    expect(delivered.every((e) => e.agency === FR && e.service === 'agency-subscriber')).toBe(true);
  });

  it('applies updates (history kept) and cancels (content removed), showing execution flags and noReshare', async () => {
    world = await new World().init([FR]);
    const sub = await world.start(FR);
    const { token } = await sub.desks.create('all', {});
    const feed = world.topics.feedFor(FR);
    const v1 = alertOf({ headline: 'Original headline' });
    await produceDeliveries(world.producer, feed, [
      deliveryOf(FR, v1, { executionFlags: ['DO_NOT_ACT_ON_TERRITORY'], noReshare: true, redactedGroups: ['BIOMETRICS'] }),
    ]);
    await waitStored(sub, v1.alertId);
    const v2 = {
      ...v1,
      version: 2,
      msgType: 'Update' as const,
      headline: 'Updated headline',
      references: [{ alertId: v1.alertId, version: 1 }],
    };
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, v2, { noReshare: true })]);
    await waitStored(sub, v1.alertId, 2);

    const updated = await getJson(`${sub.url}/inbox/${v1.alertId}`, token);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, msgType: 'Update', state: 'ACTIVE', headline: 'Updated headline', noReshare: true });
    expect((updated.body['alert'] as { headline: string }).headline).toBe('Updated headline');
    const versions = updated.body['versions'] as {
      version: number;
      headline: string | null;
      executionFlags: string[];
      redactedGroups: string[];
    }[];
    expect(versions.map((v) => [v.version, v.headline])).toEqual([
      [1, 'Original headline'],
      [2, 'Updated headline'],
    ]);
    expect(versions[0]!.executionFlags).toEqual(['DO_NOT_ACT_ON_TERRITORY']);
    expect(versions[0]!.redactedGroups).toEqual(['BIOMETRICS']);

    const v3 = { ...v1, version: 3, msgType: 'Cancel' as const, headline: 'Cancelled', references: [{ alertId: v1.alertId, version: 2 }] };
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, v3, { recall: true })]);
    await waitStored(sub, v1.alertId, 3);
    const cancelled = await getJson(`${sub.url}/inbox/${v1.alertId}`, token);
    expect(cancelled.body).toMatchObject({
      version: 3,
      msgType: 'Cancel',
      state: 'CANCELLED',
      headline: null,
      description: null,
      alert: null,
    });
    expect((cancelled.body['versions'] as { headline: string | null }[]).every((v) => v.headline === null)).toBe(true);
    // A late replay of v1 after the cancel brings nothing back.
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, v1, { replay: true })]);
    const sentinel = alertOf();
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, sentinel)]);
    await waitStored(sub, sentinel.alertId);
    expect((await getJson(`${sub.url}/inbox/${v1.alertId}`, token)).body).toMatchObject({ state: 'CANCELLED', alert: null });
  });

  it('filters per desk, searches and paginates, and acknowledges idempotently', async () => {
    world = await new World().init([FR]);
    const sub = await world.start(FR);
    const europeRed = await sub.desks.create('europe-red', { regions: ['EUROPE'], noticeTypes: ['RED'], minSeverity: 'Severe' });
    const all = await sub.desks.create('all', {});
    const feed = world.topics.feedFor(FR);
    const a = alertOf({
      senderRegion: 'EUROPE',
      noticeType: 'RED',
      severity: 'Extreme',
      headline: 'Armed robbery in Lyon',
      description: 'Sought.',
    });
    const b = alertOf({ senderRegion: 'AFRICA', noticeType: 'RED', severity: 'Extreme', headline: 'Fraud ring', description: 'Sought.' });
    const c = alertOf({
      senderRegion: 'EUROPE',
      noticeType: 'YELLOW',
      severity: 'Extreme',
      headline: 'Missing person',
      description: 'Last seen near a ROBBERY scene.',
    });
    const d = alertOf({
      senderRegion: 'EUROPE',
      noticeType: 'RED',
      severity: 'Minor',
      headline: 'Minor theft',
      description: 'Suspected of robbery.',
    });
    await produceDeliveries(
      world.producer,
      feed,
      [a, b, c, d].map((x) => deliveryOf(FR, x)),
    );
    await waitStored(sub, d.alertId);

    const filtered = await getJson(`${sub.url}/inbox`, europeRed.token);
    expect((filtered.body['items'] as { alertId: string }[]).map((i) => i.alertId)).toEqual([a.alertId]);
    expect((await getJson(`${sub.url}/inbox/${b.alertId}`, europeRed.token)).status).toBe(404);

    const search = await getJson(`${sub.url}/inbox?q=robbery`, all.token);
    expect((search.body['items'] as { alertId: string }[]).map((i) => i.alertId)).toEqual([d.alertId, c.alertId, a.alertId]);
    const yellow = await getJson(`${sub.url}/inbox?noticeType=YELLOW`, all.token);
    expect((yellow.body['items'] as { alertId: string }[]).map((i) => i.alertId)).toEqual([c.alertId]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: Record<string, unknown> } = await getJson(
        `${sub.url}/inbox?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        all.token,
      );
      seen.push(...(page.body['items'] as { alertId: string }[]).map((i) => i.alertId));
      cursor = page.body['nextCursor'] as string | null;
    } while (cursor);
    expect(seen).toEqual([d, c, b, a].map((x) => x.alertId));

    const ack1 = await getJson(`${sub.url}/inbox/${a.alertId}/ack`, europeRed.token, { method: 'POST' });
    const ack2 = await getJson(`${sub.url}/inbox/${a.alertId}/ack`, europeRed.token, { method: 'POST' });
    expect(ack1).toMatchObject({ status: 200, body: { version: 1, newlyAcknowledged: true } });
    expect(ack2).toMatchObject({
      status: 200,
      body: { version: 1, newlyAcknowledged: false, acknowledgedAt: ack1.body['acknowledgedAt'] },
    });
    expect((await getJson(`${sub.url}/inbox/${b.alertId}/ack`, europeRed.token, { method: 'POST' })).status).toBe(404);
    await pollUntil(async () => (await sub.relay.pending()) === 0, { description: 'audit outbox drained' });
    const acks = (await world.auditEvents()).filter((e) => e.type === 'ACKNOWLEDGED');
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({ alertId: a.alertId, actor: `${FR}/europe-red` });

    // The history is filtered per version, as the stream is: v1 (Minor) is not europe-red's to see.
    const e1 = alertOf({ senderRegion: 'EUROPE', noticeType: 'RED', severity: 'Minor', headline: 'Hidden minor headline' });
    const e2 = {
      ...e1,
      version: 2,
      msgType: 'Update' as const,
      severity: 'Extreme' as const,
      headline: 'Escalated',
      references: [{ alertId: e1.alertId, version: 1 }],
    };
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, e1), deliveryOf(FR, e2)]);
    await waitStored(sub, e1.alertId, 2);
    const narrow = await getJson(`${sub.url}/inbox/${e1.alertId}`, europeRed.token);
    expect(narrow.status).toBe(200);
    expect((narrow.body['versions'] as { version: number; headline: string | null }[]).map((v) => [v.version, v.headline])).toEqual([
      [2, 'Escalated'],
    ]);
    expect(JSON.stringify(narrow.body)).not.toContain('Hidden minor headline');
    const wide = await getJson(`${sub.url}/inbox/${e1.alertId}`, all.token);
    expect((wide.body['versions'] as { version: number }[]).map((v) => v.version)).toEqual([1, 2]);
  });

  it('sends each outbox event once when two relays of one agency flush the same outbox concurrently', async () => {
    world = await new World().init([FR]);
    const dbs = await Promise.all([openSubscriberDatabase(world.db.url, FR, 2), openSubscriberDatabase(world.db.url, FR, 2)]);
    const relays = dbs.map(
      (db, i) => new AuditRelay(testKafka('admin', uniqueName(`sub-relay-${i}`)), db, world!.topics.audit, logger, 60_000),
    );
    try {
      const total = 2000;
      await dbs[0]!.transaction(async (tx) => {
        for (let i = 0; i < total; i++)
          await queueAuditEvent(tx, null, 'PURGED', { actor: FR, agency: FR, alertId: null, details: { n: String(i) } });
      });
      await Promise.all(relays.map((r) => r.start()));
      await Promise.all(relays.map((r) => r.drain()));
      await pollUntil(async () => (await relays[0]!.pending()) === 0, { description: 'audit outbox drained' });
      const events = (await world.auditEvents()).filter((e) => e.type === 'PURGED');
      expect(events).toHaveLength(total);
      expect(new Set(events.map((e) => e.eventId)).size).toBe(total);
      expect(new Set(events.map((e) => e.details['n'])).size).toBe(total);
    } finally {
      for (const r of relays) await r.close();
      for (const db of dbs) await db.destroy().catch(() => undefined);
    }
  });

  it('keeps sending after a produce request the broker half wrote (no sequence number reused for other records)', async () => {
    // One request carries both partitions: the broker writes the small record to one and refuses the
    // oversized one (MESSAGE_TOO_LARGE). KafkaJS then rolls back the sequence numbers of both, so a
    // producer that kept its id would send the next batch of the written partition at a reused
    // number and be refused OUT_OF_ORDER_SEQUENCE_NUMBER on every later attempt.
    world = await new World().init([FR]);
    const topic = `${world.prefix}relay-half-written`;
    await world.admin.createTopics({
      topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '4096' }] }],
      waitForLeaders: false,
    });
    await createTopics(world.admin, [topic], 2); // waits for both leaders; the topic already exists
    const partitionOf = Partitioners.DefaultPartitioner();
    const keyFor = (partition: number): string => {
      for (let i = 0; ; i++) {
        const key = `key-${i}`;
        const p = partitionOf({
          topic,
          partitionMetadata: [0, 1].map((id) => ({ partitionId: id, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
          message: { key, value: null },
        });
        if (p === partition) return key;
      }
    };
    const [small, large] = [keyFor(0), keyFor(1)];
    const db = await openSubscriberDatabase(world.db.url, FR, 2);
    const relay = new AuditRelay(testKafka('admin', uniqueName('sub-relay-half')), db, topic, logger, 60_000);
    const queue = (key: string, value: Buffer): Promise<unknown> =>
      db.query(`INSERT INTO audit_outbox (event_key, event) VALUES ($1, $2)`, [key, value]);
    const high = async (partition: number): Promise<number> =>
      Number((await world!.admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition)!.high);
    try {
      await queue(small, Buffer.from('first'));
      await queue(large, Buffer.alloc(8192, 1));
      await relay.start();
      await relay.drain();
      // Written, though every send failed (once per attempt: each attempt after a failure is a new producer).
      const written = await high(0);
      expect(written).toBeGreaterThanOrEqual(1);
      expect(await high(1)).toBe(0);
      expect(await relay.pending()).toBe(2);

      // The operator removes the oversized row; another event is queued for the written partition.
      await db.query(`DELETE FROM audit_outbox WHERE event_key = $1`, [large]);
      await queue(small, Buffer.from('second'));
      await relay.drain();
      await pollUntil(async () => (await relay.pending()) === 0, { description: 'outbox drained after the half-written request' });
      expect(await high(0)).toBe(written + 2); // "first" again (at-least-once, as the outbox allows) and "second"
      expect(await high(1)).toBe(0);
    } finally {
      await relay.close();
      await db.destroy().catch(() => undefined);
      await deleteTopics(world.admin, [topic]).catch(() => undefined);
    }
  });

  it('resumes the SSE feed after a dropped connection with nothing missed and nothing repeated', async () => {
    world = await new World().init([FR]);
    const sub = await world.start(FR);
    const { token } = await sub.desks.create('watch', { regions: ['EUROPE'] });
    const feed = world.topics.feedFor(FR);
    const batch1 = [1, 2, 3].map((i) => alertOf({ headline: `first ${i}` }));
    const other = alertOf({ senderRegion: 'AMERICAS', headline: 'not for this desk' });
    await produceDeliveries(
      world.producer,
      feed,
      [...batch1, other].map((x) => deliveryOf(FR, x)),
    );

    const s1 = await world.stream(sub, token);
    expect(s1.status).toBe(200);
    await pollUntil(() => s1.events.length >= 3, { description: '3 backlog events', timeoutMs: 30_000 });
    const live = alertOf({ headline: 'live 1' });
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, live)]);
    await pollUntil(() => s1.events.length >= 4, { description: 'live event', timeoutMs: 30_000 });
    await s1.close();
    const lastId = s1.events[s1.events.length - 1]!.id;

    const missed = [1, 2].map((i) => alertOf({ headline: `while away ${i}` }));
    await produceDeliveries(
      world.producer,
      feed,
      missed.map((x) => deliveryOf(FR, x)),
    );
    await waitStored(sub, missed[1]!.alertId);
    const s2 = await world.stream(sub, token, lastId);
    await pollUntil(() => s2.events.length >= 2, { description: 'missed events replayed', timeoutMs: 30_000 });
    const after = alertOf({ headline: 'live 2' });
    await produceDeliveries(world.producer, feed, [deliveryOf(FR, after)]);
    await pollUntil(() => s2.events.length >= 3, { description: 'live event after resume', timeoutMs: 30_000 });

    const all = [...s1.events, ...s2.events];
    expect(all.map((e) => e.data['headline'])).toEqual([
      'first 1',
      'first 2',
      'first 3',
      'live 1',
      'while away 1',
      'while away 2',
      'live 2',
    ]);
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(all.every((e) => e.event === 'alert')).toBe(true);
  });

  it('purges expired and over-age alerts, leaving a tombstone', async () => {
    world = await new World().init([FR]);
    const sub = await world.start(FR, { retentionDays: 30 });
    const { token } = await sub.desks.create('all', {});
    const feed = world.topics.feedFor(FR);
    const expired = alertOf({ expires: new Date(Date.now() - 60_000) });
    const fresh = alertOf({ expires: null });
    await produceDeliveries(
      world.producer,
      feed,
      [expired, fresh].map((x) => deliveryOf(FR, x)),
    );
    await waitStored(sub, fresh.alertId);

    const now = await sub.purgeNow();
    expect(now.purged).toEqual([{ alertId: expired.alertId, version: 1, reason: 'EXPIRED' }]);
    const gone = await getJson(`${sub.url}/inbox/${expired.alertId}`, token);
    expect(gone.status).toBe(410);
    expect(gone.body['tombstone']).toMatchObject({ alertId: expired.alertId, version: 1, reason: 'EXPIRED' });
    expect((await getJson(`${sub.url}/inbox/${fresh.alertId}`, token)).status).toBe(200);

    const later = await sub.purgeNow(new Date(Date.now() + 31 * 86_400_000));
    expect(later.purged).toEqual([{ alertId: fresh.alertId, version: 1, reason: 'RETENTION_PERIOD' }]);
    expect((await sub.inbox.tombstones()).map((t) => [t.alertId, t.reason]).sort()).toEqual(
      [
        [expired.alertId, 'EXPIRED'],
        [fresh.alertId, 'RETENTION_PERIOD'],
      ].sort(),
    );
    expect((await getJson(`${sub.url}/inbox`, token)).body['items']).toEqual([]);
    const rows = (await sub.inbox.dataSource.query(
      `SELECT count(*) AS n FROM alert_versions WHERE content IS NOT NULL OR headline IS NOT NULL`,
    )) as { n: string }[];
    expect(Number(rows[0]!.n)).toBe(0);
    await pollUntil(async () => (await sub.relay.pending()) === 0, { description: 'audit outbox drained' });
    expect(
      (await world.auditEvents())
        .filter((e) => e.type === 'PURGED')
        .map((e) => e.reason)
        .sort(),
    ).toEqual(['EXPIRED', 'RETENTION_PERIOD']);
  });

  it("refuses a desk of agency B on agency A's inbox, and anonymous callers", async () => {
    world = await new World().init([FR, DE]);
    const fr = await world.start(FR);
    const de = await world.start(DE);
    const frDesk = await fr.desks.create('paris', {});
    const deDesk = await de.desks.create('berlin', {});
    const alert = alertOf();
    await produceDeliveries(world.producer, world.topics.feedFor(FR), [deliveryOf(FR, alert)]);
    await waitStored(fr, alert.alertId);

    expect((await getJson(`${fr.url}/inbox/${alert.alertId}`, frDesk.token)).status).toBe(200);
    for (const path of ['/inbox', `/inbox/${alert.alertId}`]) {
      expect((await getJson(`${fr.url}${path}`, deDesk.token)).status).toBe(401);
    }
    expect((await getJson(`${fr.url}/inbox/${alert.alertId}/ack`, deDesk.token, { method: 'POST' })).status).toBe(401);
    expect((await world.stream(fr, deDesk.token)).status).toBe(401);
    expect((await fetch(`${fr.url}/inbox`)).status).toBe(401);
    // Started without ADMIN_TOKEN_HASH: desk management over HTTP is off, whoever asks.
    expect((await getJson(`${fr.url}/desks`, frDesk.token)).body).toMatchObject({
      status: 403,
      type: expect.stringContaining('desk-admin-disabled'),
    });
    // DE's own inbox does not have FR's alert.
    expect((await getJson(`${de.url}/inbox/${alert.alertId}`, deDesk.token)).status).toBe(404);
  });

  it('manages desks over HTTP with the agency-admin token only: create (token once), list without secrets, use, delete', async () => {
    world = await new World().init([FR]);
    const admin = issueToken().token;
    const sub = await world.start(FR, { adminTokenHash: hashToken(admin) });
    const existing = await sub.desks.create('existing', {});
    const desksApi = (token: string | null, init: { method?: string; path?: string; body?: unknown } = {}) =>
      fetch(`${sub.url}/desks${init.path ?? ''}`, {
        method: init.method ?? 'GET',
        headers: {
          ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
    const json = async (res: Response) => ({
      status: res.status,
      type: res.headers.get('content-type'),
      body: (await res.json()) as Record<string, unknown>,
    });

    // Anonymous: 401; a desk token (a valid credential, but not the admin's): 403; both problem+json.
    const anonymous = await json(await desksApi(null));
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/application\/problem\+json/);
    expect((await desksApi(null, { method: 'POST', body: { name: 'sneaky' } })).status).toBe(401);
    const byDesk = await json(await desksApi(existing.token, { method: 'POST', body: { name: 'sneaky', filter: {} } }));
    expect(byDesk.status).toBe(403);
    expect(byDesk.type).toMatch(/application\/problem\+json/);
    expect((await desksApi(existing.token)).status).toBe(403);
    expect((await desksApi(existing.token, { method: 'DELETE', path: '/existing' })).status).toBe(403);
    expect((await desksApi(`${admin}x`)).status).toBe(403);
    expect(await sub.desks.find('sneaky')).toBeNull();

    // Create: 201 with the token, the only time it is shown.
    const created = await json(
      await desksApi(admin, { method: 'POST', body: { name: 'lyon', filter: { regions: ['EUROPE'], minSeverity: 'Severe' } } }),
    );
    expect(created.status).toBe(201);
    const token = created.body['token'] as string;
    expect(token).toMatch(/^bbk_[0-9a-f]{16}\./);
    expect(created.body['desk']).toMatchObject({ name: 'lyon', filter: { regions: ['EUROPE'], severities: ['Extreme', 'Severe'] } });
    expect((await desksApi(admin, { method: 'POST', body: { name: 'lyon', filter: {} } })).status).toBe(409);

    // List: both desks, no token and no hash of any.
    const listing = await json(await desksApi(admin));
    expect(listing.status).toBe(200);
    expect((listing.body['desks'] as { name: string }[]).map((d) => d.name)).toEqual(['existing', 'lyon']);
    const text = JSON.stringify(listing.body);
    for (const secret of [token, existing.token]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(hashToken(secret));
      expect(text).not.toContain(secret.split('.')[1]!);
    }
    expect(text).not.toMatch(/hash/i);

    // The new desk's token reads its inbox, filtered.
    const alert = alertOf({ senderRegion: 'EUROPE', severity: 'Extreme' });
    const other = alertOf({ senderRegion: 'AFRICA', severity: 'Extreme' });
    await produceDeliveries(world.producer, world.topics.feedFor(FR), [deliveryOf(FR, alert), deliveryOf(FR, other)]);
    await waitStored(sub, other.alertId);
    await waitStored(sub, alert.alertId);
    const inbox = await getJson(`${sub.url}/inbox`, token);
    expect(inbox.status).toBe(200);
    expect((inbox.body['items'] as { alertId: string }[]).map((i) => i.alertId)).toEqual([alert.alertId]);

    // Delete: 204, then its token is unknown (401); a second delete is 404.
    expect((await desksApi(admin, { method: 'DELETE', path: '/lyon' })).status).toBe(204);
    expect((await getJson(`${sub.url}/inbox`, token)).status).toBe(401);
    expect((await desksApi(admin, { method: 'DELETE', path: '/lyon' })).status).toBe(404);
    expect(((await json(await desksApi(admin))).body['desks'] as { name: string }[]).map((d) => d.name)).toEqual(['existing']);
    expect((await getJson(`${sub.url}/inbox`, existing.token)).status).toBe(200);
  });

  it('answers 400 problem+json naming the bad field of a desk, and creates nothing', async () => {
    world = await new World().init([FR]);
    const admin = issueToken().token;
    const sub = await world.start(FR, { adminTokenHash: hashToken(admin) });
    const post = async (body: unknown) => {
      const res = await fetch(`${sub.url}/desks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const problem = (await res.json()) as { errors?: { field: string }[] };
      return { status: res.status, type: res.headers.get('content-type'), fields: (problem.errors ?? []).map((e) => e.field) };
    };
    const cases: [unknown, string[]][] = [
      [{ name: 'bad-region', filter: { regions: ['EUROPA'] } }, ['filter.regions']],
      [{ name: 'bad-tlp', filter: { tlps: ['WHITE'], minUrgency: 'Soon' } }, ['filter.minUrgency', 'filter.tlps']],
      [{ name: 'typo', filter: { region: ['EUROPE'] } }, ['filter.region']],
      [{ name: 'empty-levels', filter: { urgencies: ['Past'], minUrgency: 'Expected' } }, ['filter.minUrgency']],
      [{ name: 'not-an-object', filter: ['EUROPE'] }, ['filter']],
      [{ filter: {} }, ['name']],
      [{ name: '-dash-first', filter: {} }, ['name']],
    ];
    for (const [body, fields] of cases) {
      const res = await post(body);
      expect({ body, status: res.status, fields: res.fields.sort() }).toEqual({ body, status: 400, fields });
      expect(res.type).toMatch(/application\/problem\+json/);
    }
    expect(await sub.desks.list()).toEqual([]);
  });

  // The real ACL'd path: principal subscriber-KE-NCB, topic alerts.feed.KE-NCB, group subscriber-KE-NCB (no prefix).
  (hasServicePrincipals() ? it : it.skip)('consumes its real feed topic with its own principal and consumer group', async () => {
    const agency = 'KE-NCB';
    const topics = topicNames('');
    const kafka = testKafka('admin', uniqueName('sub-real'));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const db = await createTestDatabase({ label: 'subscriber-real' });
    await producer.connect();
    let sub: RunningAgencySubscriber | undefined;
    try {
      sub = await startTestSubscriber({
        agency,
        kafka: testKafkaConnection(`subscriber-${agency}`),
        databaseUrl: db.url,
        logger,
        heartbeatMs: 1000,
      });
      expect(sub.groupId).toBe(`subscriber-${agency}`);
      const alert = alertOf({ headline: 'Real principal' });
      await produceDeliveries(producer, topics.feedFor(agency), [deliveryOf(agency, alert)]);
      await waitStored(sub, alert.alertId);
      await pollUntil(async () => (await sub!.relay.pending()) === 0, {
        description: 'DELIVERED written to audit.events with the subscriber principal',
        timeoutMs: 30_000,
      });
    } finally {
      await sub?.close();
      await producer.disconnect();
      await db.drop();
    }
  });
});
