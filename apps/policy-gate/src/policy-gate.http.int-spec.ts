import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, startService } from '@backbone/bootstrap';
import { auditEventCodec } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { KafkaConfig } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { testKafkaConnection } from '@backbone/testing';
import { loadGateSettings } from './policy-gate.config.js';
import { PolicyGateModule } from './policy-gate.module.js';
import { PolicyGateRuntime } from './policy-gate.runtime.js';
import { addressingTestPolicy } from './testing/addressing.test-policy.js';
import { GateTestWorld } from './testing/gate-test.harness.js';

jest.setTimeout(120_000);
const AGENCIES = ['FR-NCB', 'DE-NCB', 'NL-NCB'];

describe('policy gate service (Nest, HTTP)', () => {
  let db: TestDatabase;
  let w: GateTestWorld;
  let app: NestFastifyApplication;
  let url: string;
  let reviewer: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'policy_gate_http' });
    w = await GateTestWorld.create(AGENCIES);
    const logger = createLogger('policy-gate', 'fatal');
    const settings = loadGateSettings({ GATE_INSTANCE_ID: `http-${randomUUID()}`, GATE_GROUP_ID: w.groupId });
    app = (
      await startService({
        name: 'policy-gate',
        module: PolicyGateModule.forRoot({
          kafka: KafkaConfig.of(testKafkaConnection('admin'), w.prefix),
          settings: { ...settings, DATABASE_URL: db.url },
          policy: addressingTestPolicy(AGENCIES, { version: 'http-1' }),
        }),
        logger,
        port: 0,
        shutdownHooks: false,
      })
    ).app;
    url = await app.getUrl();
    // GET /decisions names senders and recipients: reviewers only.
    reviewer = { authorization: `Bearer ${(await app.get(PolicyGateRuntime).running.repository.issueReviewer('http.reviewer')).token}` };
  });

  afterAll(async () => {
    await app?.close();
    await w?.close();
    await db?.drop();
  });

  it('is ready when Kafka and PostgreSQL answer, and explains a decision it made', async () => {
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: { name: string }[] }).checks.map((c) => c.name).sort()).toEqual([
      'consumer-progress',
      'gate-consumer',
      'kafka',
      'postgres',
    ]);

    const a = sampleAlert({ alertId: randomUUID(), neverTo: ['NL-NCB'] });
    await w.submit(a);
    await w.waitForGateCommitted();
    const res = await fetch(`${url}/decisions/${a.alertId}?agency=NL-NCB`, { headers: reviewer });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      versions: { policyVersion: string; outcomes: { outcome: string; ruleId: string; delivered: boolean }[] }[];
    };
    expect(body.versions[0]!.policyVersion).toBe('http-1');
    expect(body.versions[0]!.outcomes).toEqual([expect.objectContaining({ outcome: 'DENY', ruleId: 'deny.never-to', delivered: false })]);

    expect((await fetch(`${url}/decisions/${randomUUID()}`, { headers: reviewer })).status).toBe(404);
    expect((await fetch(`${url}/decisions/not-a-uuid`, { headers: reviewer })).status).toBe(400);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/gate_deliveries_total 1/);
  });

  it('keeps HOLD outcomes durably in PostgreSQL and audits them instead of dropping them', async () => {
    const held = sampleAlert({ alertId: randomUUID(), noticeType: 'PURPLE' });
    await w.submit(held);
    await w.waitForGateCommitted();
    const repo = app.get(PolicyGateRuntime).running.repository;
    const holds = (await repo.pendingHolds()).filter((h) => h.alertId === held.alertId);
    expect(holds.map((h) => [h.agency, h.ruleId, h.policyVersion]).sort()).toEqual([
      ['DE-NCB', 'review.hold', 'http-1'],
      ['NL-NCB', 'review.hold', 'http-1'],
    ]);
    const audit = (await w.readCommitted([w.topics.audit])).get(w.topics.audit)!.map((m) => auditEventCodec.decode(m.value));
    const decided = audit.find((e) => e.alertId === held.alertId)!;
    expect(decided.details['held']).toBe('DE-NCB,NL-NCB');
    expect(decided.decisions.filter((d) => d.outcome === 'HOLD').map((d) => d.agency)).toEqual(['DE-NCB', 'NL-NCB']);
  });
});
