import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, startService } from '@backbone/bootstrap';
import { alertCodec, auditEventCodec, type Alert } from '@backbone/codec';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { KafkaConfig } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { pollUntil, testKafkaConnection } from '@backbone/testing';
import { RELEASE_RULE_ID } from './hold.release.js';
import { loadEnginePolicy } from './policy-engine.adapter.js';
import { loadGateSettings } from './policy-gate.config.js';
import { PolicyGateModule } from './policy-gate.module.js';
import { PolicyGateRuntime } from './policy-gate.runtime.js';
import { GateTestWorld } from './testing/gate-test.harness.js';

jest.setTimeout(180_000);

/** Review holds under the shipped policy, released through the gate's HTTP API. */
describe('releasing held alerts (real broker, PostgreSQL and HTTP)', () => {
  const policy = loadEnginePolicy('policies');
  const registry = policy.decide(sampleAlert(), new Date()).outcomes.map((o) => o.agency);
  let db: TestDatabase;
  let w: GateTestWorld;
  let app: NestFastifyApplication;
  let url: string;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'policy_gate_release' });
    w = await GateTestWorld.create(registry);
    const logger = createLogger('policy-gate', process.env['TEST_LOG_LEVEL'] ?? 'fatal');
    const settings = loadGateSettings({ GATE_INSTANCE_ID: `release-${randomUUID()}`, GATE_GROUP_ID: w.groupId });
    app = (
      await startService({
        name: 'policy-gate',
        module: PolicyGateModule.forRoot({
          kafka: KafkaConfig.of(testKafkaConnection('admin'), w.prefix),
          settings: { ...settings, DATABASE_URL: db.url },
          policy,
        }),
        logger,
        port: 0,
        shutdownHooks: false,
      })
    ).app;
    url = await app.getUrl();
    token = (await app.get(PolicyGateRuntime).running.repository.issueReviewer('rev.one')).token;
  });

  afterAll(async () => {
    await app?.close();
    await w?.close();
    await db?.drop();
  });

  const diffusion = (overrides: Partial<Alert> = {}): Alert =>
    sampleAlert({
      alertId: randomUUID(),
      noticeType: 'DIFFUSION',
      purposes: ['ARREST_EXTRADITION'],
      subject: sampleSubject(),
      sent: new Date(),
      ...overrides,
    });

  const release = (alertId: string, auth: string | null, body: unknown = {}): Promise<Response> =>
    fetch(`${url}/holds/${alertId}/release`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth === null ? {} : { authorization: `Bearer ${auth}` }) },
      body: JSON.stringify(body),
    });

  it('holds an arrest diffusion, lists it, and releases it once to the held agencies, redacted, with recall of later updates', async () => {
    const a = diffusion();
    const expectedHolds = policy.decide(a, new Date()).outcomes.filter((o) => o.outcome === 'HOLD');
    expect(expectedHolds.length).toBeGreaterThan(0);
    // Victim details go only to victim-support agencies: some held agencies get a redacted copy.
    expect(expectedHolds.some((o) => o.redactedGroups.length > 0)).toBe(true);
    const heldAgencies = expectedHolds.map((o) => o.agency).sort();
    await w.submit(a);
    await w.waitForGateCommitted();

    // Held: on no feed at all.
    const before = await w.deliveries(registry);
    expect([...before.values()].flat().filter((d) => d.alertId === a.alertId)).toEqual([]);

    // Listed for reviewers only.
    expect((await fetch(`${url}/holds`)).status).toBe(401);
    const listed = await fetch(`${url}/holds`, { headers: { authorization: `Bearer ${token}` } });
    expect(listed.status).toBe(200);
    const holds = ((await listed.json()) as { holds: { alertId: string; agency: string; ruleId: string }[] }).holds.filter(
      (h) => h.alertId === a.alertId,
    );
    expect(holds.map((h) => h.agency).sort()).toEqual(heldAgencies);
    expect(new Set(holds.map((h) => h.ruleId))).toEqual(new Set(['review.hold']));

    // Refused without a valid token, as problem+json.
    const anonymous = await release(a.alertId, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await release(a.alertId, 'bbk_0000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(401);

    const ok = await release(a.alertId, token);
    expect(ok.status).toBe(200);
    const result = (await ok.json()) as { released: string[]; denied: unknown[]; version: number; releasedBy: string };
    expect(result).toMatchObject({ version: 1, releasedBy: 'rev.one', denied: [] });
    expect([...result.released].sort()).toEqual(heldAgencies);

    // A second release finds nothing pending and writes nothing.
    const again = await release(a.alertId, token);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { released: string[] }).released).toEqual([]);

    const feeds = await w.deliveries(registry);
    for (const agency of registry) {
      const mine = feeds.get(agency)!.filter((d) => d.alertId === a.alertId);
      const hold = expectedHolds.find((o) => o.agency === agency);
      if (!hold) {
        expect(mine).toEqual([]);
        continue;
      }
      expect(mine).toHaveLength(1);
      const d = mine[0]!;
      expect(d).toMatchObject({
        recipient: agency,
        alertVersion: 1,
        ruleId: RELEASE_RULE_ID,
        recall: false,
        redactedGroups: [...hold.redactedGroups],
      });
      expect(d.outcome).toBe(
        hold.redactedGroups.length > 0 || hold.executionFlags.length > 0 || hold.noReshare ? 'ALLOW_WITH_OBLIGATIONS' : 'ALLOW',
      );
      expect(alertCodec.encode(alertCodec.decode(d.alert))).toEqual(alertCodec.encode(policy.redact(a, hold)));
      const subject = alertCodec.decode(d.alert).subject!;
      if (hold.redactedGroups.includes('VICTIM_DETAILS')) expect(subject.victim).toBeNull();
      if (hold.redactedGroups.includes('BIOMETRICS')) expect(subject.biometrics).toBeNull();
    }
    const repo = app.get(PolicyGateRuntime).running.repository;
    expect((await repo.pendingHolds(1000)).filter((h) => h.alertId === a.alertId)).toEqual([]);
    expect((await repo.recipientsOf(a.alertId)).map((r) => r.agency).sort()).toEqual(heldAgencies);

    // The release is audited: one DECIDED event by the reviewer with the released agencies.
    const audit = (await w.readCommitted([w.topics.audit])).get(w.topics.audit)!.map((m) => auditEventCodec.decode(m.value));
    const releases = audit.filter((e) => e.alertId === a.alertId && e.details['releasedBy'] !== undefined);
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({
      type: 'DECIDED',
      actor: 'rev.one',
      details: expect.objectContaining({ releasedBy: 'rev.one', heldRule: 'review.hold' }),
    });
    expect(releases[0]!.decisions.map((d) => d.agency).sort()).toEqual(heldAgencies);
    expect(new Set(releases[0]!.decisions.map((d) => d.ruleId))).toEqual(new Set([RELEASE_RULE_ID]));

    // An Update afterwards reaches the released agencies (recall), though policy would hold it again.
    const update: Alert = { ...a, version: 2, msgType: 'Update', references: [{ alertId: a.alertId, version: 1 }], headline: 'Updated' };
    await w.submit(update);
    await w.waitForGateCommitted();
    const after = await w.deliveries(registry);
    for (const agency of heldAgencies) {
      const mine = after.get(agency)!.filter((d) => d.alertId === a.alertId);
      expect(mine.map((d) => d.alertVersion)).toEqual([1, 2]);
    }
  });

  it('refuses to release a hold whose alert has expired since, with hold-expired', async () => {
    // Close enough not to wait long, far enough for the gate to hold it before it expires.
    const a = diffusion({ expires: new Date(Date.now() + 3_000) });
    await w.submit(a);
    await w.waitForGateCommitted();
    const repo = app.get(PolicyGateRuntime).running.repository;
    expect((await repo.pendingHolds(1000)).filter((h) => h.alertId === a.alertId).length).toBeGreaterThan(0);
    // Only ask once the expiry has passed (the gate runs on this clock): an earlier release would succeed.
    const res = await pollUntil(async () => (Date.now() > a.expires!.getTime() ? release(a.alertId, token) : undefined), {
      description: `the release of ${a.alertId} to be answered after its expiry`,
      timeoutMs: 15_000,
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await res.json()) as { type: string }).type).toMatch(/hold-expired$/);
    const feeds = await w.deliveries(registry);
    expect([...feeds.values()].flat().filter((d) => d.alertId === a.alertId)).toEqual([]);
    expect((await release(randomUUID(), token)).status).toBe(404);
  });
});
