// Office tokens verified without the publisher's database, from the attacker's side: the policy
// gate and the audit logger ask the publisher's introspection route (ADR 0007). A revoked token
// is refused by both within the stated bound, a forged one at once; the introspection route
// answers services only; and the audit logger's delivery status of an alert is for the office
// that sent it, nobody else.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { issueToken } from '@backbone/auth';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { KafkaConfig } from '@backbone/kafka';
import { issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { OfficeIntrospectionClient } from '@backbone/office-auth';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { alertInput, pollUntil, testKafkaConnection, uniqueName } from '@backbone/testing';
import type { AuditLedgerRuntime } from '../apps/audit-logger/src/audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from '../apps/audit-logger/src/audit-logger.module.js';
import { PublisherConfig } from '../apps/notice-publisher/src/config/publisher.config.js';
import { NoticePublisherModule } from '../apps/notice-publisher/src/notice-publisher.module.js';
import { addressingTestPolicy } from '../apps/policy-gate/src/testing/addressing.test-policy.js';
import { GateTestWorld, startTestGate, type TestGate } from '../apps/policy-gate/src/testing/gate-test.harness.js';

jest.setTimeout(180_000);

const SENDER = 'FR-NCB';
const OTHER = 'DE-NCB';
const CACHE_MS = 1000;
const logger = createLogger('introspection-test', 'fatal');

describe('office token introspection (real publisher, gate, audit logger, broker and PostgreSQL)', () => {
  let db: TestDatabase;
  let world: GateTestWorld;
  let publisher: RunningService;
  let gate: TestGate;
  let audit: RunningService;
  let credentials: CredentialStore;
  let closeCredentials: () => Promise<void>;
  const gateService = issueToken();
  const auditService = issueToken();
  let gateClient: OfficeIntrospectionClient;
  let senderToken: string;
  let otherToken: string;
  let complianceToken: string;
  let alertId: string;

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'introspection' });
    world = await GateTestWorld.create([SENDER, OTHER]);
    const connection = testKafkaConnection('admin');
    publisher = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka: KafkaConfig.of(connection, world.prefix),
        config: PublisherConfig.of({
          PORT: 0,
          DATABASE_URL: db.url,
          PUBLISH_FLUSH_INTERVAL_MS: 2,
          INTROSPECTION_CLIENTS: `policy-gate=${gateService.hash},audit-logger=${auditService.hash}`,
        }),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    const ds = await openPublisherDatabase(db.url, 2);
    credentials = new CredentialStore(ds);
    closeCredentials = () => ds.destroy();
    senderToken = (await credentials.issue(SENDER)).token;
    otherToken = (await credentials.issue(OTHER)).token;

    gateClient = new OfficeIntrospectionClient({ url: publisher.url, serviceToken: gateService.token, cacheMs: CACHE_MS });
    gate = await startTestGate({
      kafka: connection,
      databaseUrl: db.url,
      prefix: world.prefix,
      groupId: world.groupId,
      instanceId: randomUUID(),
      policy: addressingTestPolicy([SENDER, OTHER]),
      logger,
      officeIntrospection: gateClient,
    });
    audit = await startService({
      name: 'audit-logger',
      module: AuditLoggerModule.forRoot({
        kafka: connection,
        prefix: world.prefix,
        databaseUrl: await provisionLedger(db.url),
        groupId: uniqueName('introspection-audit'),
        signingKeyFile: join(tmpdir(), `${uniqueName('introspection-key')}.pem`),
        officeIntrospection: new OfficeIntrospectionClient({ url: publisher.url, serviceToken: auditService.token, cacheMs: CACHE_MS }),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    complianceToken = (await issueComplianceUser(audit.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME).pool, 'introspection.reader')).token;

    const res = await fetch(`${publisher.url}/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${senderToken}`, 'content-type': 'application/json', 'idempotency-key': uniqueName('intro') },
      body: JSON.stringify(draft()),
    });
    expect(res.status).toBe(201);
    alertId = ((await res.json()) as { alertId: string }).alertId;
  });

  afterAll(async () => {
    await audit?.close();
    await gate?.close();
    await publisher?.close();
    await closeCredentials?.();
    await world?.close();
    await db?.drop();
  });

  const introspect = (token: string | null, body: unknown = { token: senderToken }) =>
    fetch(`${publisher.url}/auth/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const preview = (token: string | null) =>
    fetch(`${gate.service.url}/preview`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({
        noticeType: 'RED',
        tlp: 'AMBER',
        handlingCode: 'H1',
        addressing: { mode: 'ALL' },
        area: { description: 'x', countries: ['FR'] },
      }),
    });
  const recipients = (token: string | null, id = alertId) =>
    fetch(`${audit.url}/office/alerts/${id}/recipients`, { headers: token !== null ? { authorization: `Bearer ${token}` } : {} });

  it('answers services only: anonymous, office, desk-like, forged and unlisted service tokens are refused', async () => {
    expect((await introspect(null)).status).toBe(401);
    expect((await introspect(senderToken)).status).toBe(403);
    expect((await introspect(issueToken().token)).status).toBe(401);
    expect((await introspect(`${gateService.token.slice(0, -4)}AAAA`)).status).toBe(401);
    const ok = await introspect(gateService.token);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ active: true, agency: SENDER, tokenId: senderToken.split('.')[0] });
    const forged = await introspect(auditService.token, { token: `${senderToken.slice(0, -4)}AAAA` });
    expect(await forged.json()).toEqual({ active: false, reason: 'unknown-credential' });
    expect((await introspect(auditService.token, {})).status).toBe(400);
  });

  it('shows an office the recipients of its own alert only: another office, a compliance user, a forged token and no token are refused', async () => {
    const mine = await pollUntil(
      async () => {
        const r = await recipients(senderToken);
        if (r.status !== 200) return null;
        const body = (await r.json()) as { counts: { agencies: number }; recipients: { agency: string; state: string }[] };
        return body.counts.agencies > 0 ? body : null;
      },
      { description: 'the ledger holds the gate decision of the alert', timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(mine.recipients.map((r) => r.agency)).toContain(OTHER);
    // The other office sees no trace of it, whether asked one by one or in a list.
    const other = await recipients(otherToken);
    expect(other.status).toBe(404);
    const listed = await fetch(`${audit.url}/office/alerts/recipients?ids=${alertId},${randomUUID()}`, {
      headers: { authorization: `Bearer ${otherToken}` },
    });
    expect(await listed.json()).toEqual({ items: [] });
    const own = await fetch(`${audit.url}/office/alerts/recipients?ids=${alertId}`, {
      headers: { authorization: `Bearer ${senderToken}` },
    });
    expect(((await own.json()) as { items: { alertId: string }[] }).items.map((i) => i.alertId)).toEqual([alertId]);
    for (const [who, token] of [
      ['anonymous', null],
      ['compliance user', complianceToken],
      ['forged office', `${senderToken.slice(0, -4)}AAAA`],
      ['service credential', auditService.token],
    ] as const) {
      const r = await recipients(token);
      expect({ who, status: r.status }).toEqual({ who, status: 401 });
    }
  });

  it(`refuses a revoked office token at the gate preview and the audit route within the cache bound (${CACHE_MS} ms + one request)`, async () => {
    // Both services have just admitted the token, so each holds a fresh cached "active".
    expect((await preview(senderToken)).status).toBe(200);
    expect((await recipients(senderToken)).status).toBe(200);
    expect(await credentials.revoke(SENDER)).toBe(1);
    await pollUntil(async () => (await preview(senderToken)).status === 401 && (await recipients(senderToken)).status === 401, {
      description: 'the revoked token refused by the gate and the audit logger',
      timeoutMs: gateClient.revocationBoundMs,
      intervalMs: 100,
    });
    const refused = (await (await preview(senderToken)).json()) as { reason: string };
    expect(refused.reason).toBe('revoked-credential');
    // The other office's token is untouched.
    expect((await preview(otherToken)).status).toBe(200);
  });
});

function draft(): Record<string, unknown> {
  return alertInput();
}
