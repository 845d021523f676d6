// Refusals audited durably and cheaply, tried from the attacker's side against the real broker and
// PostgreSQL: an identified caller's refusal is on audit.events before its 403 arrives; a flood of
// anonymous calls becomes a bounded number of ledger entries carrying the whole count, and 429s past
// the limit; with the broker unreachable a refusal still answers and the dropped metric rises.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { hashToken, issueToken } from '@backbone/auth';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { auditEventCodec, type AuditEvent } from '@backbone/codec';
import {
  DEFAULT_REFUSAL_AUDIT,
  generateEventKey,
  KafkaConfig,
  PARKING_SERVICES,
  RATE_LIMITED_REASON,
  readEventKeyring,
  REFUSAL_KINDS,
  RefusalAuditor,
  topicNames,
  type TopicNames,
} from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, TcpProxy, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber, type RunningAgencySubscriber } from '../apps/agency-subscriber/src/subscriber.test-kit.js';
import type { AuditLedgerRuntime } from '../apps/audit-logger/src/audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from '../apps/audit-logger/src/audit-logger.module.js';
import { COMPLIANCE_ROLE, issueComplianceUser, provisionLedger } from '@backbone/ledger';

jest.setTimeout(120_000);

const FR = 'FR-NCB';
const SIGNER = `subscriber-${FR}`;
const LIMIT = 20;
const FLOOD = 50;
const TIMEOUT_MS = 500;
const logger = createLogger('refusal-audit-test', 'fatal');
const kafka = testKafka('admin', uniqueName('refusal-admin'));
const keysDir = mkdtempSync(join(tmpdir(), 'refusal-keys-'));

let admin: Admin;
let db: TestDatabase;
let topics: TopicNames;
let proxy: TcpProxy;
let audit: RunningService;
let ledger: AuditLedgerRuntime;
let sub: RunningAgencySubscriber;
let deskToken: string;

interface LedgerRefusal {
  reason: string | null;
  actor: string | null;
  agency: string | null;
  signer: string | null;
  details: Record<string, string>;
}

async function ledgerRefusals(): Promise<LedgerRefusal[]> {
  const { rows } = await ledger.pool.query<LedgerRefusal>(
    `SELECT reason, actor, agency, signer, details FROM audit.ledger WHERE type = 'REJECTED' AND service = 'agency-subscriber' ORDER BY seq`,
  );
  return rows;
}

/** Every audit event on the topic now, read by a fresh consumer up to the high watermark. */
async function auditTopicNow(): Promise<AuditEvent[]> {
  const [end] = await admin.fetchTopicOffsets(topics.audit);
  const high = Number(end!.high);
  const events: AuditEvent[] = [];
  if (high === 0) return events;
  const consumer = kafka.consumer({ groupId: uniqueName('refusal-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.audit, fromBeginning: true });
  let read = 0;
  await consumer.run({
    eachMessage: async ({ message }) => {
      read = Number(message.offset) + 1;
      events.push(auditEventCodec.decode(message.value!));
    },
  });
  try {
    await pollUntil(() => read >= high, { description: 'the fresh consumer read up to the high watermark', timeoutMs: 30_000 });
  } finally {
    await consumer.disconnect();
  }
  return events;
}

async function metric(name: string, label: string): Promise<number> {
  const text = await (await fetch(`${sub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  const prefix = `${uniqueName('refusal')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.feedFor(FR), topics.audit, topics.parkedFor(PARKING_SERVICES.auditLogger)]);
  const publicKeys = join(keysDir, 'public-keys.json');
  const frKey = generateEventKey(join(keysDir, `${SIGNER}.json`), publicKeys, SIGNER);
  const loggerKey = generateEventKey(join(keysDir, 'audit-logger.json'), publicKeys, 'audit-logger');
  db = await createTestDatabase({ label: 'refusal_audit' });

  // The audit logger checks signatures and emitter rules: a subscriber's refusal must enter as genuine.
  audit = await startService({
    name: 'audit-logger',
    module: AuditLoggerModule.forRoot({
      kafka: testKafkaConnection('admin'),
      prefix,
      databaseUrl: await provisionLedger(db.url),
      groupId: uniqueName('refusal-audit'),
      signingKeyFile: join(keysDir, 'ledger-key.pem'),
      eventKeyring: readEventKeyring(publicKeys),
      eventSigningKey: loggerKey,
      anchors: { topic: false },
    }),
    logger,
    port: 0,
    shutdownHooks: false,
  });
  ledger = audit.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME);

  // The subscriber reaches the broker only through a proxy the last test closes.
  const connection = testKafkaConnection('admin');
  const [host, port] = connection.brokers[0]!.split(':') as [string, string];
  proxy = new TcpProxy(host, Number(port));
  await proxy.open();
  sub = await startTestSubscriber({
    agency: FR,
    kafka: KafkaConfig.of({ ...connection, socketFactory: proxy.socketFactory() }, prefix, frKey),
    prefix,
    databaseUrl: db.url,
    adminTokenHash: hashToken(issueToken().token),
    logger,
    refusalAudit: {
      ...DEFAULT_REFUSAL_AUDIT,
      REFUSAL_AUDIT_TIMEOUT_MS: TIMEOUT_MS,
      // One window for the whole test: the flood is written when the test flushes it.
      REFUSAL_AGGREGATE_WINDOW_MS: 3_600_000,
      ANONYMOUS_REFUSAL_LIMIT: LIMIT,
      ANONYMOUS_REFUSAL_WINDOW_MS: 3_600_000,
    },
  });
  deskToken = (await sub.desks.create('night-shift', {})).token;
});

afterAll(async () => {
  await proxy?.open().catch(() => undefined);
  await sub?.close();
  await audit?.close();
  await proxy?.close();
  await deleteTopics(admin, [topics.feedFor(FR), topics.audit, topics.parkedFor(PARKING_SERVICES.auditLogger)]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
});

describe('refusal audit (real broker and PostgreSQL)', () => {
  it('a desk token calling the agency-admin route gets 403, and its signed refusal is already on audit.events', async () => {
    const res = await fetch(`${sub.url}/desks`, { headers: { authorization: `Bearer ${deskToken}` } });
    expect(res.status).toBe(403);
    // Read the moment the answer arrived, by a consumer that did not exist before.
    const onTopic = (await auditTopicNow()).filter((e) => e.type === 'REJECTED');
    expect(onTopic).toEqual([
      expect.objectContaining({
        service: 'agency-subscriber',
        agency: FR,
        actor: `${FR}:night-shift`,
        reason: 'role-not-admitted',
        details: expect.objectContaining({ refusal: REFUSAL_KINDS.identified, status: '403', route: '/desks', method: 'GET' }),
      }),
    ]);
    expect(onTopic[0]!.signature?.signer).toBe(SIGNER);
    // The audit logger enters it as genuine (the emitter rules admit REJECTED from a subscriber about its agency).
    const rows = await pollUntil(async () => ((await ledgerRefusals()).length > 0 ? ledgerRefusals() : undefined), {
      description: 'the refusal in the ledger',
      timeoutMs: 30_000,
    });
    expect(rows).toEqual([expect.objectContaining({ reason: 'role-not-admitted', signer: SIGNER, agency: FR })]);
  });

  it(`a flood of ${FLOOD} anonymous calls: 429 past ${LIMIT}, and a bounded number of ledger entries carrying all ${FLOOD}`, async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < FLOOD; i++) {
      // Half without a credential, half with an unknown one: both anonymous.
      const headers: Record<string, string> = i % 2 === 0 ? {} : { authorization: `Bearer ${issueToken().token}` };
      const res = await fetch(`${sub.url}/inbox`, { headers });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        const body = (await res.json()) as { reason?: string };
        expect(body.reason).toBe(RATE_LIMITED_REASON);
        expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      } else await res.body?.cancel();
    }
    expect(statuses.slice(0, LIMIT).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(LIMIT).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThan(0);

    await sub.app.get(RefusalAuditor).flush();
    const anonymous = await pollUntil(
      async () => {
        const rows = (await ledgerRefusals()).filter((r) => r.details['refusal'] === REFUSAL_KINDS.anonymous);
        return rows.reduce((n, r) => n + Number(r.details['count']), 0) >= FLOOD ? rows : undefined;
      },
      { description: 'the aggregated refusals in the ledger', timeoutMs: 30_000 },
    );
    // One entry per (route, reason, address bucket): missing, unknown, rate-limited.
    expect(anonymous.map((r) => `${r.reason}:${r.details['count']}`).sort()).toEqual([
      `${RATE_LIMITED_REASON}:${FLOOD - LIMIT}`,
      `missing-credential:${LIMIT / 2}`,
      `unknown-credential:${LIMIT / 2}`,
    ]);
    // Compliance sees them in the cooperation metrics, summed by their counts.
    const { token } = await issueComplianceUser(ledger.pool, uniqueName('refusal-reader'), COMPLIANCE_ROLE);
    const metrics = (await (await fetch(`${audit.url}/compliance/metrics`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      refusals: { service: string; reason: string; kind: string; refusals: number }[];
    };
    expect(metrics.refusals.filter((r) => r.service === 'agency-subscriber')).toEqual([
      { service: 'agency-subscriber', reason: RATE_LIMITED_REASON, kind: REFUSAL_KINDS.anonymous, refusals: FLOOD - LIMIT },
      { service: 'agency-subscriber', reason: 'missing-credential', kind: REFUSAL_KINDS.anonymous, refusals: LIMIT / 2 },
      { service: 'agency-subscriber', reason: 'role-not-admitted', kind: REFUSAL_KINDS.identified, refusals: 1 },
      { service: 'agency-subscriber', reason: 'unknown-credential', kind: REFUSAL_KINDS.anonymous, refusals: LIMIT / 2 },
    ]);
    for (const r of anonymous) {
      expect(r).toMatchObject({ signer: SIGNER, actor: null, details: { route: '/inbox', client: '127.0.0.0/24' } });
      expect(Date.parse(r.details['firstAt']!)).toBeLessThanOrEqual(Date.parse(r.details['lastAt']!));
    }
  });

  it('with the broker unreachable, an identified refusal still answers (403) and the dropped metric rises', async () => {
    const before = await metric('backbone_refusals_dropped_total', 'reason="timeout"');
    await proxy.close();
    const res = await fetch(`${sub.url}/desks`, { headers: { authorization: `Bearer ${deskToken}` } });
    expect(res.status).toBe(403);
    expect(await metric('backbone_refusals_dropped_total', 'reason="timeout"')).toBe(before + 1);
  });
});
