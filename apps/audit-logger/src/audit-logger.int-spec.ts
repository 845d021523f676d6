import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin, Producer } from 'kafkajs';
import { alertCodec, auditEventCodec, deliveryCodec, type AuditEvent, type Delivery } from '@backbone/codec';
import { sampleFullAlert } from '@backbone/codec/testing';
import { auditEvent, topicNames, type TopicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { createLogger, startService } from '@backbone/bootstrap';
import type { AuditLedgerRuntime } from './audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from './audit-logger.module.js';
import { COMPLIANCE_REPLAYER_ROLE, issueComplianceUser, verifyLedger, provisionLedger } from '@backbone/ledger';

const kafka = testKafka('admin', uniqueName('audit-logger-test'));
let admin: Admin;
let producer: Producer;
let db: TestDatabase;
let topics: TopicNames;
let prefix: string;
let keyFile: string;
let groupId: string;
type RunningAuditLogger = AuditLedgerRuntime & { url: string };
let running: RunningAuditLogger | undefined;

async function start(): Promise<RunningAuditLogger> {
  const service = await startService({
    name: 'audit-logger',
    module: AuditLoggerModule.forRoot({
      kafka: testKafkaConnection('admin'),
      prefix,
      databaseUrl: await provisionLedger(db.url),
      signingKeyFile: keyFile,
      checkpointEveryRows: 50,
      checkpointEveryMs: 500,
      groupId,
    }),
    logger: createLogger('audit-logger', process.env['LOG_LEVEL'] ?? 'warn'),
    port: 0,
    shutdownHooks: false,
  });
  running = { ...service.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME), url: service.url, close: () => service.close() };
  return running;
}

async function send(events: AuditEvent[], partitionOf: (i: number) => number = () => 0): Promise<void> {
  await producer.send({
    topic: topics.audit,
    acks: -1,
    messages: events.map((e, i) => ({ key: e.eventId, value: auditEventCodec.encode(e), partition: partitionOf(i) })),
  });
}

async function count(r: RunningAuditLogger, where = 'true', params: unknown[] = []): Promise<number> {
  return (await r.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit.ledger WHERE ${where}`, params)).rows[0]!.n;
}

beforeAll(async () => {
  prefix = `${uniqueName('al')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.audit], 3);
  await createTopics(admin, [topics.feedFor('DE-NCB'), topics.feedFor('NL-NCB')], 1);
  producer = kafka.producer();
  await producer.connect();
  db = await createTestDatabase({ label: 'audit_logger' });
  keyFile = join(mkdtempSync(join(tmpdir(), 'audit-logger-')), 'signing-key.pem');
  groupId = uniqueName('audit-logger');
}, 60_000);

afterAll(async () => {
  await running?.close();
  await producer?.disconnect();
  await deleteTopics(admin, [topics.audit, topics.feedFor('DE-NCB'), topics.feedFor('NL-NCB')]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
}, 60_000);

describe('audit logger against the real broker and PostgreSQL', () => {
  it('stores every event exactly once across a restart and a rewind to the earliest offset', async () => {
    const n = 300;
    const m = 120;
    let r = await start();
    await send(
      Array.from({ length: n }, (_, i) => auditEvent('DELIVERED', 'agency-subscriber', { agency: 'FR-NCB', details: { i: String(i) } })),
      (i) => i % 3,
    );
    await pollUntil(async () => (await count(r)) === n, { description: `${n} ledger rows`, timeoutMs: 30_000 });
    await r.close();
    running = undefined;

    await send(
      Array.from({ length: m }, (_, i) => auditEvent('ACKNOWLEDGED', 'agency-subscriber', { agency: 'FR-NCB', details: { j: String(i) } })),
      (i) => i % 3,
    );
    // The group's offsets rewound to the beginning: the ledger's own positions win, so nothing is read twice.
    await admin.resetOffsets({ groupId, topic: topics.audit, earliest: true });
    r = await start();
    await pollUntil(() => r.consumer.stats.inserted >= m, { description: 'the new events consumed', timeoutMs: 30_000 });
    expect(await count(r)).toBe(n + m);
    expect(r.consumer.stats.duplicates).toBe(0);
    expect(r.consumer.resumePlan?.recreated).toBe(false);
    await r.writer.checkpointNow();
    const report = await verifyLedger(r.pool, new Map([[r.signingKey.keyId, r.signingKey.publicKey]]));
    expect(report).toMatchObject({ ok: true, rows: n + m, unsignedTail: 0 });
  }, 90_000);

  describe('compliance API', () => {
    let url: string;
    let alice: string;
    let bob: string;
    let rita: string;
    const alertId = randomUUID();
    /** Cancelled (version 2) inside the range: a replay must deliver the Cancel, never version 1 as active. */
    const cancelledId = randomUUID();
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const until = new Date(Date.now() + 3_600_000).toISOString();

    beforeAll(async () => {
      const r = running ?? (await start());
      url = r.url;
      alice = (await issueComplianceUser(r.pool, 'alice')).token;
      bob = (await issueComplianceUser(r.pool, 'bob', 'desk')).token;
      rita = (await issueComplianceUser(r.pool, 'rita', COMPLIANCE_REPLAYER_ROLE)).token;
      const original = sampleFullAlert({ alertId: cancelledId, version: 1, msgType: 'Alert', references: [] });
      const cancel = { ...original, version: 2, msgType: 'Cancel' as const, references: [{ alertId: cancelledId, version: 1 }] };
      const allowNl = [{ agency: 'NL-NCB', outcome: 'ALLOW' as const, ruleId: 'default.allow', redactedGroups: [], executionFlags: [] }];
      for (const a of [original, cancel]) {
        await send([
          auditEvent('SUBMITTED', 'notice-publisher', {
            alertId: cancelledId,
            alertVersion: a.version,
            originator: 'FR-NCB',
            noticeType: 'YELLOW',
            actor: 'FR-NCB',
            payload: alertCodec.encode(a),
          }),
          auditEvent('DECIDED', 'policy-gate', {
            alertId: cancelledId,
            alertVersion: a.version,
            originator: 'FR-NCB',
            noticeType: 'YELLOW',
            policyVersion: '2026-11-01',
            decisions: allowNl,
            details: { msgType: a.msgType },
          }),
        ]);
      }
      const alert = sampleFullAlert({ alertId, version: 1, msgType: 'Alert', references: [] });
      await send([
        auditEvent('SUBMITTED', 'notice-publisher', {
          alertId,
          alertVersion: 1,
          originator: 'FR-NCB',
          noticeType: 'YELLOW',
          actor: 'FR-NCB',
          payload: alertCodec.encode(alert),
        }),
        auditEvent('DECIDED', 'policy-gate', {
          alertId,
          alertVersion: 1,
          originator: 'FR-NCB',
          noticeType: 'YELLOW',
          policyVersion: '2026-11-01',
          decisions: [
            {
              agency: 'DE-NCB',
              outcome: 'ALLOW_WITH_OBLIGATIONS',
              ruleId: 'victims.redact',
              redactedGroups: ['VICTIM_DETAILS', 'BIOMETRICS'],
              executionFlags: ['DO_NOT_ACT_ON_TERRITORY'],
            },
            { agency: 'US-NCB', outcome: 'DENY', ruleId: 'transfer.no-basis', redactedGroups: [], executionFlags: [] },
          ],
        }),
        auditEvent('DELIVERED', 'agency-subscriber', {
          alertId,
          alertVersion: 1,
          agency: 'DE-NCB',
          originator: 'FR-NCB',
          noticeType: 'YELLOW',
        }),
      ]);
      await pollUntil(
        async () => (await count(r, 'alert_id = $1', [alertId])) === 3 && (await count(r, 'alert_id = $1', [cancelledId])) === 4,
        {
          description: 'the alert events ingested',
          timeoutMs: 20_000,
        },
      );
    }, 60_000);

    const get = (path: string, token?: string): Promise<Response> =>
      fetch(url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    it('refuses no token (401), a bad token (401) and a non-compliance user (403)', async () => {
      expect((await get('/compliance/verify')).status).toBe(401);
      expect((await get('/compliance/verify', 'bbk_0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);
      const forbidden = await get(`/compliance/alerts/${alertId}/trail`, bob);
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers verify and audits the query as an AUDIT_ACCESSED event in the ledger', async () => {
      const res = await get('/compliance/verify', alice);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true });
      await pollUntil(
        async () => (await count(running!, `type = 'AUDIT_ACCESSED' AND actor = 'alice' AND details->>'action' = 'verify'`)) >= 1,
        {
          description: 'an AUDIT_ACCESSED event for the verify query',
          timeoutMs: 20_000,
        },
      );
    });

    it('shows the trail: who got it, under which rule and policy version, what was withheld and why', async () => {
      const res = await get(`/compliance/alerts/${alertId}/trail`, alice);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { recipients: Record<string, unknown>[] };
      expect(body.recipients).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            agency: 'DE-NCB',
            outcome: 'ALLOW_WITH_OBLIGATIONS',
            ruleId: 'victims.redact',
            policyVersion: '2026-11-01',
            withheld: { what: 'VICTIM_DETAILS, BIOMETRICS', why: 'victims.redact' },
            deliveredAt: expect.any(String),
          }),
          expect.objectContaining({
            agency: 'US-NCB',
            outcome: 'DENY',
            withheld: { what: 'the whole alert', why: 'transfer.no-basis' },
            deliveredAt: null,
          }),
        ]),
      );
      await pollUntil(async () => (await count(running!, `type = 'AUDIT_ACCESSED' AND alert_id = $1`, [alertId])) >= 1, {
        description: 'trail query audited',
        timeoutMs: 20_000,
      });
    });

    it('lists what an agency received and was refused, with filters', async () => {
      const de = (await (
        await get(`/compliance/agencies/DE-NCB/received?since=${since}&until=${until}&originator=FR-NCB`, alice)
      ).json()) as { items: Record<string, unknown>[] };
      expect(de.items.map((i) => i['type'])).toEqual(['DECIDED', 'DELIVERED']);
      expect(de.items[0]).toMatchObject({
        outcome: 'ALLOW_WITH_OBLIGATIONS',
        delivered: true,
        redactedGroups: ['VICTIM_DETAILS', 'BIOMETRICS'],
      });
      const us = (await (await get(`/compliance/agencies/US-NCB/received?since=${since}&until=${until}&type=DECIDED`, alice)).json()) as {
        items: Record<string, unknown>[];
      };
      expect(us.items).toEqual([expect.objectContaining({ alertId, outcome: 'DENY', delivered: false, ruleId: 'transfer.no-basis' })]);
      const none = (await (
        await get(`/compliance/agencies/DE-NCB/received?since=${since}&until=${until}&noticeType=RED`, alice)
      ).json()) as { items: unknown[] };
      expect(none.items).toEqual([]);
    });

    it('streams an export as NDJSON and CSV', async () => {
      const nd = await get(`/compliance/export?agency=DE-NCB&since=${since}&until=${until}&format=ndjson`, alice);
      expect(nd.status).toBe(200);
      expect(nd.headers.get('x-total-count')).toBe('2');
      const lines = (await nd.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l['type'])).toEqual(['DECIDED', 'DELIVERED']);
      const csv = await (await get(`/compliance/export?agency=DE-NCB&since=${since}&until=${until}&format=csv`, alice)).text();
      const rows = csv.trim().split('\r\n');
      expect(rows[0]).toMatch(/^seq,type,occurredAt,alertId/);
      expect(rows).toHaveLength(3);
      expect((await get(`/compliance/export?agency=DE-NCB&since=${since}&until=${until}&format=xml`, alice)).status).toBe(400);
    });

    /** The first `n` deliveries of an agency's feed. */
    const feedDeliveries = async (agency: string, n: number): Promise<Delivery[]> => {
      const got: Delivery[] = [];
      const consumer = kafka.consumer({ groupId: uniqueName('feed-reader') });
      await consumer.connect();
      await consumer.subscribe({ topic: topics.feedFor(agency), fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void got.push(deliveryCodec.decode(message.value!)) });
      try {
        await pollUntil(() => got.length >= n, { description: `${n} deliveries on ${agency}'s feed`, timeoutMs: 20_000 });
      } finally {
        await consumer.disconnect();
      }
      return got;
    };

    const replay = (token: string, body: Record<string, string>): Promise<Response> =>
      fetch(`${url}/compliance/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('refuses a replay with a compliance read token (403): replaying needs the replayer role', async () => {
      const res = await fetch(`${url}/compliance/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agency: 'DE-NCB', since, until }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { reason: string }).reason).toBe('role-not-admitted');
      expect(await count(running!, `type = 'REPLAYED' AND alert_id = $1`, [alertId])).toBe(0);
    });

    it('refuses a replay range beyond the bound (400 replay-range-too-long)', async () => {
      const tooLong = await replay(rita, { agency: 'DE-NCB', since: '2020-01-01T00:00:00Z', until: '2026-01-01T00:00:00Z' });
      expect(tooLong.status).toBe(400);
      expect(await tooLong.json()).toMatchObject({ reason: 'replay-range-too-long' });
    });

    it('replays to an agency feed what it was allowed then, with the recorded redactions, marked replay; a cancelled alert only as its Cancel', async () => {
      const res = await replay(rita, { agency: 'DE-NCB', since, until });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ replayed: 1, missingPayload: [] });
      const nl = await replay(rita, { agency: 'NL-NCB', since, until });
      expect(await nl.json()).toMatchObject({ replayed: 1, deliveries: [{ alertId: cancelledId, alertVersion: 2 }] });
      const nlFeed = await feedDeliveries('NL-NCB', 1);
      expect(nlFeed.map((x) => [x.alertId, x.alertVersion, x.msgType])).toEqual([[cancelledId, 2, 'Cancel']]);

      const received: Delivery[] = [];
      const consumer = kafka.consumer({ groupId: uniqueName('feed-reader') });
      await consumer.connect();
      await consumer.subscribe({ topic: topics.feedFor('DE-NCB'), fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void received.push(deliveryCodec.decode(message.value!)) });
      try {
        await pollUntil(() => received.length >= 1, { description: 'the replayed delivery on the feed', timeoutMs: 20_000 });
      } finally {
        await consumer.disconnect();
      }
      const d = received[0]!;
      expect(d).toMatchObject({
        replay: true,
        recipient: 'DE-NCB',
        alertId,
        alertVersion: 1,
        outcome: 'ALLOW_WITH_OBLIGATIONS',
        ruleId: 'victims.redact',
        policyVersion: '2026-11-01',
        redactedGroups: ['VICTIM_DETAILS', 'BIOMETRICS'],
        executionFlags: ['DO_NOT_ACT_ON_TERRITORY'],
        noReshare: true,
      });
      const alert = alertCodec.decode(d.alert);
      expect(alert.subject?.victim).toBeNull();
      expect(alert.subject?.biometrics).toBeNull();
      expect(alert.subject?.identityDocuments).toHaveLength(2);
      await pollUntil(async () => (await count(running!, `type = 'REPLAYED' AND alert_id = $1 AND agency = 'DE-NCB'`, [alertId])) === 1, {
        description: 'a REPLAYED audit event',
        timeoutMs: 20_000,
      });
    }, 60_000);
  });
});
