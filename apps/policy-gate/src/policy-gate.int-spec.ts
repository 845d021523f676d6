import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { alertCodec, auditEventCodec, deadLetterCodec, deliveryCodec, type Alert } from '@backbone/codec';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { createLogger } from '@backbone/bootstrap';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { pollUntil, testKafkaConnection } from '@backbone/testing';
import { RECALL_RULE_ID } from './batch.assembler.js';
import { loadEnginePolicy } from './policy-engine.adapter.js';
import { addressingTestPolicy } from './testing/addressing.test-policy.js';
import { GateTestWorld, startTestGate, type TestGate, type TestGateOptions } from './testing/gate-test.harness.js';

const AGENCIES = ['FR-NCB', 'DE-NCB', 'NL-NCB', 'US-NCB'];
// A real broker on a shared 2-core machine: group joins and transactions take seconds, not milliseconds.
jest.setTimeout(120_000);
const logger = createLogger('policy-gate', process.env['TEST_LOG_LEVEL'] ?? 'fatal');

let db: TestDatabase;
const worlds: GateTestWorld[] = [];
const gates: TestGate[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ label: 'policy_gate' });
});

afterEach(async () => {
  for (const g of gates.splice(0)) await g.close();
  for (const w of worlds.splice(0)) await w.close();
});

afterAll(async () => {
  await db.drop();
});

async function world(agencies: readonly string[] = AGENCIES): Promise<GateTestWorld> {
  const w = await GateTestWorld.create(agencies);
  worlds.push(w);
  return w;
}

async function gate(w: GateTestWorld, opts: Partial<TestGateOptions> = {}): Promise<TestGate> {
  const g = await startTestGate({
    kafka: testKafkaConnection('admin'),
    databaseUrl: db.url,
    prefix: w.prefix,
    groupId: w.groupId,
    instanceId: randomUUID(),
    policy: addressingTestPolicy(AGENCIES, { redactBiometricsFor: ['US-NCB'] }),
    logger,
    ...opts,
  });
  gates.push(g);
  return g;
}

function alert(overrides: Partial<Alert> = {}): Alert {
  return sampleAlert({ alertId: randomUUID(), ...overrides });
}

describe('policy gate (real broker and PostgreSQL)', () => {
  it('sends an alert to exactly the feeds the policy engine allows, redacted per recipient, and audits the decision', async () => {
    const policy = loadEnginePolicy('policies');
    const registryAgencies = policy.decide(sampleAlert(), new Date()).outcomes.map((o) => o.agency);
    const w = await world(registryAgencies);
    await gate(w, { policy });
    const a = alert({ subject: sampleSubject(), sent: new Date() });
    const expected = policy.decide(a, new Date()).outcomes.filter((o) => o.outcome === 'ALLOW' || o.outcome === 'ALLOW_WITH_OBLIGATIONS');
    expect(expected.length).toBeGreaterThan(0);
    await w.submit(a);
    await w.waitForGateCommitted();

    const feeds = await w.deliveries(registryAgencies);
    const got = [...feeds].filter(([, ds]) => ds.length > 0).map(([agency]) => agency);
    expect(got.sort()).toEqual(expected.map((o) => o.agency).sort());
    for (const o of expected) {
      const [d] = feeds.get(o.agency)!;
      expect(feeds.get(o.agency)).toHaveLength(1);
      expect(d).toMatchObject({
        alertId: a.alertId,
        recipient: o.agency,
        ruleId: o.ruleId,
        policyVersion: policy.policyVersion,
        recall: false,
      });
      expect([...d!.redactedGroups].sort()).toEqual([...o.redactedGroups].sort());
      const copy = alertCodec.decode(d!.alert);
      if (o.redactedGroups.includes('BIOMETRICS')) expect(copy.subject?.biometrics).toBeNull();
      else expect(copy.subject?.biometrics).not.toBeNull();
      if (o.redactedGroups.includes('VICTIM_DETAILS')) expect(copy.subject?.victim).toBeNull();
    }
    const audit = (await w.readCommitted([w.topics.audit])).get(w.topics.audit)!.map((m) => auditEventCodec.decode(m.value));
    const decided = audit.filter((e) => e.type === 'DECIDED');
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ alertId: a.alertId, policyVersion: policy.policyVersion });
    expect(decided[0]!.decisions).toHaveLength(registryAgencies.length);
    // The decision is kept for `backbone policy explain`.
    const stored = await gates[0]!.repository.decisionsFor(a.alertId);
    expect(stored.map((s) => [s.version, s.policyVersion])).toEqual([[1, policy.policyVersion]]);
  });

  it('carries the W3C trace context of an alert record onto every feed record and audit event it causes, and invents none', async () => {
    const w = await world();
    await gate(w);
    const traced = alert({ sent: new Date() });
    const untraced = alert({ sent: new Date() });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await w.producer.send({
      topic: w.topics.submitted,
      messages: [
        { key: traced.alertId, value: alertCodec.encode(traced), headers: { traceparent } },
        { key: untraced.alertId, value: alertCodec.encode(untraced) },
      ],
    });
    await w.waitForGateCommitted();
    const topics = [...AGENCIES.map((a) => w.topics.feedFor(a)), w.topics.audit];
    const records = [...(await w.readCommitted(topics)).values()].flat();
    const of = (id: string): typeof records => records.filter((r) => r.value.includes(Buffer.from(id)));
    expect(of(traced.alertId).length).toBeGreaterThan(1);
    expect(of(untraced.alertId).length).toBeGreaterThan(1);
    // Tracing is off in tests: the gate passes the publisher's context on unchanged.
    for (const r of of(traced.alertId)) expect(r.headers?.['traceparent']?.toString()).toBe(traceparent);
    for (const r of of(untraced.alertId)) expect(r.headers?.['traceparent']).toBeUndefined();
  });

  it('recalls an update and a cancel to every past recipient after the addressing and the policy exclude them', async () => {
    const w = await world();
    const first = await gate(w, { instanceId: 'recall-a' });
    const v1 = alert({ subject: sampleSubject() });
    await w.submit(v1);
    await w.waitForGateCommitted();
    await first.close();
    gates.splice(0);

    // A new policy version that denies US-NCB everything, and an update addressed to DE-NCB only.
    await gate(w, { instanceId: 'recall-b', policy: addressingTestPolicy(AGENCIES, { version: 'test-2', deny: ['US-NCB'] }) });
    const v2 = {
      ...v1,
      version: 2,
      msgType: 'Update' as const,
      references: [{ alertId: v1.alertId, version: 1 }],
      addressing: { mode: 'EXPLICIT' as const, regions: [], agencies: ['DE-NCB'] },
    };
    const v3 = {
      ...v1,
      version: 3,
      msgType: 'Cancel' as const,
      references: [{ alertId: v1.alertId, version: 2 }],
      neverTo: ['DE-NCB', 'NL-NCB', 'US-NCB'],
    };
    await w.submit(v2, v3);
    await w.waitForGateCommitted();

    const feeds = await w.deliveries(['DE-NCB', 'NL-NCB', 'US-NCB']);
    const summary = (agency: string): [number, string, boolean, string][] =>
      feeds.get(agency)!.map((d) => [d.alertVersion, d.msgType, d.recall, d.ruleId]);
    expect(summary('DE-NCB')).toEqual([
      [1, 'Alert', false, 'addressing.all'],
      [2, 'Update', false, 'addressing.explicit'],
      [3, 'Cancel', true, RECALL_RULE_ID],
    ]);
    for (const agency of ['NL-NCB', 'US-NCB']) {
      expect(summary(agency)).toEqual([
        [1, 'Alert', false, 'addressing.all'],
        [2, 'Update', true, RECALL_RULE_ID],
        [3, 'Cancel', true, RECALL_RULE_ID],
      ]);
    }
    const recalledUpdate = feeds.get('US-NCB')![1]!;
    expect(alertCodec.decode(recalledUpdate.alert).subject?.victim).toBeNull();
    expect(await gates[0]!.repository.recipientsOf(v1.alertId)).toEqual([
      { agency: 'DE-NCB', firstVersion: 1, lastVersion: 3 },
      { agency: 'NL-NCB', firstVersion: 1, lastVersion: 3 },
      { agency: 'US-NCB', firstVersion: 1, lastVersion: 3 },
    ]);
  });

  it('dead-letters a poison record and still delivers the next record of the same partition', async () => {
    const w = await world();
    await gate(w);
    const good = alert();
    await w.submitRaw(good.alertId, Buffer.from('not an avro record'));
    await w.submit(good);
    await w.waitForGateCommitted();

    const read = await w.readCommitted([w.topics.deadLetter, w.topics.audit, w.topics.feedFor('DE-NCB')]);
    const dead = read.get(w.topics.deadLetter)!.map((m) => deadLetterCodec.decode(m.value));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      reason: 'UNDECODABLE',
      service: 'policy-gate',
      sourceTopic: w.topics.submitted,
      value: Buffer.from('not an avro record'),
    });
    const types = read.get(w.topics.audit)!.map((m) => auditEventCodec.decode(m.value).type);
    expect(types).toEqual(['DEAD_LETTERED', 'DECIDED']);
    expect(read.get(w.topics.feedFor('DE-NCB'))!.map((m) => deliveryCodec.decode(m.value).alertId)).toEqual([good.alertId]);
  });

  it('leaves no gap and no duplicate when an instance dies inside an open transaction and restarts', async () => {
    const w = await world();
    let commits = 0;
    const crashed = { value: false };
    const instanceId = `crash-${randomUUID()}`;
    await gate(w, {
      instanceId,
      maxBatchRecords: 5,
      beforeCommit: async () => {
        commits++;
        if (commits === 3) {
          crashed.value = true;
          // Killed between send and commit: the instance neither aborts nor commits.
          return 'vanish';
        }
        return 'commit';
      },
    });
    const alerts = Array.from({ length: 40 }, () => alert());
    await w.submit(...alerts);
    await pollUntil(() => crashed.value, { description: 'the first instance to die mid-transaction', timeoutMs: 30_000 });
    await gates.splice(0)[0]!.close();

    // The restarted instance uses the same per-partition transactional ids: InitProducerId aborts the zombie's open transaction.
    await gate(w, { instanceId });
    await w.waitForGateCommitted();

    const feeds = await w.deliveries(['DE-NCB', 'NL-NCB', 'US-NCB', 'FR-NCB']);
    for (const agency of ['DE-NCB', 'NL-NCB', 'US-NCB']) {
      const counts = new Map<string, number>();
      for (const d of feeds.get(agency)!) counts.set(d.alertId, (counts.get(d.alertId) ?? 0) + 1);
      expect(counts.size).toBe(alerts.length);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
    }
    expect(feeds.get('FR-NCB')).toEqual([]);
  });

  it('retries a retriable transaction error in place and redelivers the batch after a fatal one, still exactly once', async () => {
    const w = await world();
    let calls = 0;
    const g = await gate(w, {
      maxBatchRecords: 50,
      beforeCommit: async () => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('simulated coordinator move'), { type: 'CONCURRENT_TRANSACTIONS' });
        if (calls === 2) throw new Error('simulated fatal error');
        return 'commit';
      },
    });
    const alerts = Array.from({ length: 10 }, () => alert({ addressing: { mode: 'EXPLICIT', regions: [], agencies: ['DE-NCB'] } }));
    await w.submit(...alerts);
    await w.waitForGateCommitted();
    const ids = (await w.deliveries(['DE-NCB'])).get('DE-NCB')!.map((d) => d.alertId);
    expect(ids.sort()).toEqual(alerts.map((a) => a.alertId).sort());
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(g.metrics.totals.alerts).toBe(alerts.length);
  });

  it('fences a zombie per partition: an owner hung inside a transaction loses the partition, is not stopped, and nothing doubles', async () => {
    const w = await world();
    const fatal: Error[] = [];
    let release!: () => void;
    const hang = new Promise<void>((resolve) => (release = resolve));
    let hungOn: number | undefined;
    // The first slice's transaction is open (records and offsets sent) when this instance hangs:
    // it stops heartbeating, the group gives its partitions to the second instance.
    const zombie = await gate(w, {
      maxBatchRecords: 5,
      onFatal: (err) => fatal.push(err),
      beforeCommit: async ({ partition }) => {
        if (hungOn !== undefined) return 'commit';
        hungOn = partition;
        await hang;
        return 'commit';
      },
    });
    const before = Array.from({ length: 30 }, () => alert());
    await w.submit(...before);
    await pollUntil(() => hungOn !== undefined, { description: 'the first instance to hang mid-transaction', timeoutMs: 30_000 });
    const successor = await gate(w, { maxBatchRecords: 5 });
    await w.waitForGateCommitted(90_000);
    // The successor registered the hung partition's transactional id: the zombie's commit must now fail.
    release();
    const after = Array.from({ length: 30 }, () => alert());
    await w.submit(...after);
    await w.waitForGateCommitted(90_000);
    const ids = (await w.deliveries(['DE-NCB'])).get('DE-NCB')!.map((d) => d.alertId);
    expect(ids.sort()).toEqual([...before, ...after].map((a) => a.alertId).sort());
    expect(zombie.metrics.totals.alerts + successor.metrics.totals.alerts).toBe(before.length + after.length);
    // Fencing took one partition from the zombie; it is not a reason to stop the instance.
    expect(fatal).toEqual([]);
    expect(zombie.consumer.failure).toBeUndefined();
  });

  it('stays exactly-once while instances are added and removed under load', async () => {
    const w = await world();
    const first = await gate(w, { maxBatchRecords: 10 });
    const sent: Alert[] = [];
    const send = async (n: number): Promise<void> => {
      const chunk = Array.from({ length: n }, () => alert());
      await w.submit(...chunk);
      sent.push(...chunk);
    };
    await send(40);
    const second = await gate(w, { maxBatchRecords: 10 });
    await send(40);
    const third = await gate(w, { maxBatchRecords: 10 });
    await send(40);
    // Removed while alerts flow: its partitions move to the two left.
    await first.close();
    await send(40);
    await second.close();
    await send(40);
    await w.waitForGateCommitted(90_000);
    const ids = (await w.deliveries(['DE-NCB'])).get('DE-NCB')!.map((d) => d.alertId);
    expect(ids).toHaveLength(sent.length);
    expect(new Set(ids).size).toBe(sent.length);
    expect(third.metrics.totals.alerts).toBeGreaterThan(0);
  });

  it('shares the inbound partitions between two instances without loss or duplication', async () => {
    const w = await world();
    const a = await gate(w, { instanceId: `pair-a-${randomUUID()}`, maxBatchRecords: 10 });
    const b = await gate(w, { instanceId: `pair-b-${randomUUID()}`, maxBatchRecords: 10 });
    const alerts = Array.from({ length: 60 }, () => alert());
    await w.submit(...alerts);
    await w.waitForGateCommitted();
    const feeds = await w.deliveries(['DE-NCB']);
    const ids = feeds.get('DE-NCB')!.map((d) => d.alertId);
    expect(new Set(ids).size).toBe(alerts.length);
    expect(ids).toHaveLength(alerts.length);
    expect(a.metrics.totals.alerts + b.metrics.totals.alerts).toBe(alerts.length);
  });
});
