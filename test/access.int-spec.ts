// Every door locked: starts every service through the one start-up function, enumerates every
// route from its router, and tries each from the attacker's side: no credential, a forged one,
// and every other kind of real credential. Only the kinds a route admits get past the guard.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { hashToken, issueToken, routeInventory, type Role, type RouteEntry } from '@backbone/auth';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { DEFAULT_REFUSAL_AUDIT, KafkaConfig } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber, type RunningAgencySubscriber } from '../apps/agency-subscriber/src/subscriber.test-kit.js';
import type { AuditLedgerRuntime } from '../apps/audit-logger/src/audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from '../apps/audit-logger/src/audit-logger.module.js';
import { COMPLIANCE_REPLAYER_ROLE, COMPLIANCE_ROLE, issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { PublisherConfig } from '../apps/notice-publisher/src/config/publisher.config.js';
import { NoticePublisherModule } from '../apps/notice-publisher/src/notice-publisher.module.js';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { OfficeIntrospectionClient } from '@backbone/office-auth';
import { addressingTestPolicy } from '../apps/policy-gate/src/testing/addressing.test-policy.js';
import { GateTestWorld, startTestGate, type TestGate } from '../apps/policy-gate/src/testing/gate-test.harness.js';

jest.setTimeout(180_000);

const AGENCY = 'FR-NCB';
const logger = createLogger('access-test', 'fatal');
// This test calls every route anonymously many times from one address: the anonymous rate limit
// (tested in refusal-audit.int-spec.ts) would answer 429 before the guard is seen to refuse.
const refusalAudit = { ...DEFAULT_REFUSAL_AUDIT, ANONYMOUS_REFUSAL_LIMIT: 1_000_000 };

/** A kind of credential and the roles its holder has in the service that issued it. */
interface Credential {
  kind: string;
  token: string;
  roles: readonly Role[];
}

interface ServiceUnderTest {
  name: string;
  url: string;
  routes: readonly RouteEntry[];
}

describe('every route of every service (real servers, broker and PostgreSQL)', () => {
  let db: TestDatabase;
  let world: GateTestWorld;
  let publisher: RunningService;
  let gate: TestGate;
  let audit: RunningService;
  let subscriber: RunningAgencySubscriber;
  const services: ServiceUnderTest[] = [];
  const credentials: Credential[] = [];

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'access' });
    world = await GateTestWorld.create([AGENCY]);
    const connection = testKafkaConnection('admin');
    const kafka = KafkaConfig.of(connection, world.prefix);

    // The gate and the audit logger verify office tokens by asking the publisher, each with its own service credential.
    const gateService = issueToken();
    const auditService = issueToken();
    publisher = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka,
        config: PublisherConfig.of({
          PORT: 0,
          DATABASE_URL: db.url,
          PUBLISH_FLUSH_INTERVAL_MS: 2,
          INTROSPECTION_CLIENTS: `policy-gate=${gateService.hash},audit-logger=${auditService.hash}`,
        }),
        refusalAudit,
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    const ds = await openPublisherDatabase(db.url, 2);
    credentials.push({ kind: 'office', token: (await new CredentialStore(ds).issue(AGENCY)).token, roles: ['office'] });
    await ds.destroy();
    credentials.push({ kind: 'service', token: gateService.token, roles: ['service'] });
    const introspection = (token: string) => new OfficeIntrospectionClient({ url: publisher.url, serviceToken: token, cacheMs: 1000 });

    gate = await startTestGate({
      kafka: connection,
      databaseUrl: db.url,
      prefix: world.prefix,
      groupId: world.groupId,
      instanceId: randomUUID(),
      policy: addressingTestPolicy([AGENCY]),
      logger,
      officeIntrospection: introspection(gateService.token),
      refusalAudit,
    });
    credentials.push({
      kind: 'hold-reviewer',
      token: (await gate.repository.issueReviewer('access.reviewer')).token,
      roles: ['hold-reviewer'],
    });

    audit = await startService({
      name: 'audit-logger',
      module: AuditLoggerModule.forRoot({
        kafka: connection,
        prefix: world.prefix,
        databaseUrl: await provisionLedger(db.url),
        groupId: uniqueName('access-audit'),
        signingKeyFile: join(tmpdir(), `${uniqueName('access-key')}.pem`),
        officeIntrospection: introspection(auditService.token),
        refusalAudit,
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    const pool = audit.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME).pool;
    credentials.push({
      kind: 'compliance-reader',
      token: (await issueComplianceUser(pool, 'access.reader', COMPLIANCE_ROLE)).token,
      roles: ['compliance-reader'],
    });
    credentials.push({
      kind: 'compliance-replayer',
      token: (await issueComplianceUser(pool, 'access.replayer', COMPLIANCE_REPLAYER_ROLE)).token,
      roles: ['compliance-reader', 'compliance-replayer'],
    });
    credentials.push({
      kind: 'compliance user without a compliance role',
      token: (await issueComplianceUser(pool, 'access.other', 'desk')).token,
      roles: [],
    });

    const admin = issueToken().token;
    subscriber = await startTestSubscriber({
      agency: AGENCY,
      kafka: connection,
      prefix: world.prefix,
      databaseUrl: db.url,
      adminTokenHash: hashToken(admin),
      heartbeatMs: 1000,
      logger,
      refusalAudit,
    });
    credentials.push({ kind: 'agency admin', token: admin, roles: ['operator'] });
    credentials.push({ kind: 'desk', token: (await subscriber.desks.create('access', {})).token, roles: ['desk'] });
    credentials.push({ kind: 'forged', token: issueToken().token, roles: [] });

    // Each service's routes as its router registered them (the list startService checked at start-up).
    services.push({ name: 'notice-publisher', url: publisher.url, routes: routeInventory(publisher.app) });
    services.push({ name: 'policy-gate', url: gate.service.url, routes: routeInventory(gate.service.app) });
    services.push({ name: 'audit-logger', url: audit.url, routes: routeInventory(audit.app) });
    services.push({ name: 'agency-subscriber', url: subscriber.url, routes: routeInventory(subscriber.app) });
  });

  afterAll(async () => {
    await subscriber?.close();
    await audit?.close();
    await gate?.close();
    await publisher?.close();
    await world?.close();
    await db?.drop();
  });

  /** A concrete URL for a route pattern: every parameter a well-formed value that names nothing. */
  const concrete = (path: string): string =>
    path.replace(/:[A-Za-z]+/g, (p) => (p === ':code' ? AGENCY : p === ':name' ? 'nobody' : randomUUID()));

  const call = async (
    base: string,
    route: RouteEntry,
    token: string | null,
  ): Promise<{ status: number; type: string | null; body: Record<string, unknown> }> => {
    const ctrl = new AbortController();
    const withBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
    const res = await fetch(`${base}${concrete(route.path)}`, {
      method: route.method,
      headers: {
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
        ...(withBody ? { 'content-type': 'application/json' } : {}),
      },
      ...(withBody ? { body: '{}' } : {}),
      signal: ctrl.signal,
    });
    const type = res.headers.get('content-type');
    // An admitted SSE stream never ends: read nothing and hang up.
    if (type?.startsWith('text/event-stream')) {
      ctrl.abort();
      return { status: res.status, type, body: {} };
    }
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // CSV or metrics text: not a refusal body.
    }
    return { status: res.status, type, body };
  };

  it('enumerates the routes of every service from its router, each declaring roles or public', () => {
    const all = services.flatMap((s) => s.routes.map((r) => `${s.name} ${r.method} ${r.path}`));
    // The inventory must see the doors the issue names, or the checks below would prove nothing.
    for (const expected of [
      'notice-publisher POST /alerts',
      'notice-publisher GET /openapi.json',
      'notice-publisher POST /auth/introspect',
      'policy-gate GET /decisions/:alertId',
      'policy-gate POST /holds/:alertId/release',
      'audit-logger POST /compliance/replay',
      'audit-logger GET /office/alerts/:alertId/recipients',
      'audit-logger GET /office/alerts/recipients',
      'agency-subscriber GET /stream',
      'agency-subscriber DELETE /desks/:name',
    ]) {
      expect(all).toContain(expected);
    }
    for (const s of services) {
      for (const r of s.routes) expect(r.isPublic || r.roles.length > 0).toBe(true);
      const open = s.routes.filter((r) => r.isPublic).map((r) => r.path);
      expect(open.every((p) => ['/health/live', '/health/ready', '/metrics', '/openapi.json'].includes(p))).toBe(true);
    }
  });

  it('refuses an anonymous call and a call with every credential kind a route does not admit (401/403 problem+json with a reason)', async () => {
    let checked = 0;
    for (const s of services) {
      for (const route of s.routes.filter((r) => !r.isPublic)) {
        const label = `${s.name} ${route.method} ${route.path}`;
        const anonymous = await call(s.url, route, null);
        expect({ label, status: anonymous.status }).toEqual({ label, status: 401 });
        expect(anonymous.type).toMatch(/application\/problem\+json/);
        expect(typeof anonymous.body['reason']).toBe('string');
        checked++;
        for (const c of credentials) {
          const admitted = c.roles.some((r) => route.roles.includes(r));
          // A credential is only known to the service that issued it; elsewhere it is as good as forged.
          const res = await call(s.url, route, c.token);
          const refused = res.status === 401 || res.status === 403;
          if (admitted && credentialBelongsTo(c, s.name)) {
            expect({ label, kind: c.kind, refused }).toEqual({ label, kind: c.kind, refused: false });
          } else {
            expect({ label, kind: c.kind, refused }).toEqual({ label, kind: c.kind, refused: true });
            expect(res.type).toMatch(/application\/problem\+json/);
            expect(typeof res.body['reason']).toBe('string');
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('shows readiness to anyone without dependency error text', async () => {
    for (const s of services) {
      const res = await fetch(`${s.url}/health/ready`);
      const body = (await res.json()) as { checks: Record<string, unknown>[] };
      expect(body.checks.length).toBeGreaterThan(0);
      for (const check of body.checks) expect(Object.keys(check).sort()).toEqual(['name', 'ok']);
    }
  });
});

/** Which services know a credential kind (the stores their verifiers read). */
function credentialBelongsTo(c: Credential, service: string): boolean {
  const knownBy: Record<string, readonly string[]> = {
    // The gate and the audit logger ask the publisher about office tokens (introspection).
    office: ['notice-publisher', 'policy-gate', 'audit-logger'],
    service: ['notice-publisher'],
    'hold-reviewer': ['policy-gate'],
    'compliance-reader': ['audit-logger'],
    'compliance-replayer': ['audit-logger'],
    'compliance user without a compliance role': ['audit-logger'],
    'agency admin': ['agency-subscriber'],
    desk: ['agency-subscriber'],
  };
  return knownBy[c.kind]?.includes(service) ?? false;
}
