// The fault tier: the whole backbone as separate OS processes on a 3-broker cluster of its own,
// a steady office load with updates and cancels, and one fault after another while alerts flow.
// After each scenario an independent checker (policy engine as the oracle) compares what every
// accepted alert must have reached with what every inbox, feed and the ledger hold, and prints
//   faults: <scenario>: <N> accepted, <l> lost, <d> duplicated, ledger verified; restart-to-working ...
// Scenarios that cannot run here print `skipped: <reason>` and fail unless listed in
// SCENARIO_EXCEPTIONS (documented in docs/faults.md).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Admin } from 'kafkajs';
import pg from 'pg';
import { sampleAlert } from '@backbone/codec/testing';
import { createKafka, PARKING_SERVICES, SUBMITTED_PARTITIONS, topicNames } from '@backbone/kafka';
import { AUDIT_PARTITIONS, DEAD_LETTER_PARTITIONS, FEED_PARTITIONS } from '@backbone/infra';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { compilePolicy, decide, loadPolicy, loadRegistry, type CompiledPolicy } from '@backbone/policy';
import { createTopics, pollUntil, testKafkaConnection, uniqueName } from '@backbone/testing';
import { subscriberSchemaFor } from '@backbone/inbox-store';
import { issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { AlertLoad } from './alert.load.js';
import { brokerPid, busiestLeader, healNode, iptablesUsable, partitionNode, signalBroker } from './broker.chaos.js';
import { faultCluster } from './fault.cluster.js';
import { FaultPipeline, REPO_ROOT } from './fault.pipeline.js';
import { checkPipeline, type CheckReport, type LedgerVerdict } from './pipeline.checker.js';
import { TopicReader } from './topic.reader.js';

/** Scenarios allowed to print `skipped:` without failing the tier, each with its reason. */
export const SCENARIO_EXCEPTIONS: Readonly<Record<string, string>> = {
  'network-partition': 'needs iptables and root (CAP_NET_ADMIN) to drop loopback packets of one node; skipped where either is missing',
};

const POLICIES = join(REPO_ROOT, 'policies');
/** The scenario lines of the last run, read by scripts/test.js for its summary. */
const FAULT_LINES_FILE = join(REPO_ROOT, '.backbone', 'test-results', 'faults-lines.txt');
const OFFICE = 'FR-NCB';
/** Two agencies the shipped policy allows for the load's alerts and one it denies (checked in beforeAll). */
const AGENCIES = ['DE-NCB', 'US-NCB', 'BR-NCB'] as const;
const OUTAGE_MS = 12_000;
/** SIGSTOP longer than the consumers' 6 s session and the brokers' 4 s session. */
const HANG_MS = 15_000;

jest.setTimeout(600_000);

const cluster = faultCluster();
const runId = uniqueName('faults');
const prefix = `${runId}.`;
const topics = topicNames(prefix);
const connection = testKafkaConnection('admin');
let admin: Admin;
let db: TestDatabase;
let pool: pg.Pool;
let pipeline: FaultPipeline;
let load: AlertLoad;
let reader: TopicReader;
let compiled: CompiledPolicy;
let complianceToken = '';
let allowedAgency = '';
const lines: string[] = [];
const allTopics: string[] = [];

/** How long an outage lasts: the fault's duration is the scenario's parameter, not a wait for a condition. */
/** How long the load runs before the first fault (see beforeAll). */
const WARM_UP_MS = 30_000;
const outageFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const groupOf = (name: string): string => {
  if (name.startsWith('gate')) return `${prefix}policy-gate`;
  if (name === 'audit') return `${prefix}audit-logger`;
  return `${prefix}subscriber-${name.slice('sub-'.length)}`;
};

async function members(group: string): Promise<{ state: string; ids: string[] }> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups[0]!;
  return { state: g.state, ids: g.members.filter((m) => m.memberAssignment.length > 0).map((m) => m.memberId) };
}

/** A fresh alert published after `since` is in an allowed agency's inbox: the pipeline works end to end. */
async function probe(): Promise<void> {
  const rec = await load.create();
  if (rec.status !== 201 || !rec.alertId) throw new Error(`probe not accepted: ${rec.status} ${rec.reason}`);
  await pollUntil(
    async () =>
      (await pool.query(`SELECT 1 FROM ${subscriberSchemaFor(allowedAgency)}.alerts WHERE alert_id = $1`, [rec.alertId])).rowCount === 1,
    { description: `probe ${rec.alertId} in ${allowedAgency}'s inbox`, timeoutMs: 120_000, intervalMs: 100 },
  );
}

/** A counter from a service's /metrics, or 0 while it cannot be read. */
async function metric(url: string, name: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  } catch {
    return 0;
  }
}

/**
 * SIGKILLs a service and starts it again at once; returns the time from the restart until it works
 * again: the publisher answers 201; a gate instance has decided and committed alerts itself (its
 * /metrics, so the other instance's work does not count); a subscriber or the audit logger is
 * the one member of its group again, holding the partitions, the killed member's session over.
 */
async function killAndMeasure(name: string): Promise<number> {
  if (name === 'publisher') {
    const p = await pipeline.killAndRestart(name);
    const rec = await load.create();
    if (rec.status !== 201) throw new Error(`publisher after restart: ${rec.status} ${rec.reason}`);
    return performance.now() - p.startedAt;
  }
  if (name.startsWith('gate')) {
    const p = await pipeline.killAndRestart(name);
    await pollUntil(async () => (await metric(p.url, 'gate_alerts_decided_total')) > 0, {
      description: `${name} deciding alerts again`,
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    return performance.now() - p.startedAt;
  }
  const group = groupOf(name);
  const before = new Set((await members(group)).ids);
  const p = await pipeline.killAndRestart(name);
  await pollUntil(
    async () => {
      const m = await members(group);
      return m.state === 'Stable' && m.ids.length === 1 && !before.has(m.ids[0]!);
    },
    { description: `${name} back in group ${group}`, timeoutMs: 120_000, intervalMs: 100 },
  );
  return performance.now() - p.startedAt;
}

async function verifyLedger(): Promise<LedgerVerdict> {
  const res = await fetch(`${pipeline.url('audit')}/compliance/verify`, {
    headers: { authorization: `Bearer ${complianceToken}` },
    signal: AbortSignal.timeout(60_000),
  });
  if (!res.ok) throw new Error(`verify answered ${res.status}`);
  const body = (await res.json()) as Partial<LedgerVerdict>;
  return {
    ok: body.ok === true,
    rows: body.rows ?? 0,
    ...(body.headSeq !== undefined ? { headSeq: body.headSeq } : {}),
    firstBreak: body.firstBreak ?? null,
    anchorProblem: body.anchorProblem ?? null,
  };
}

async function check(): Promise<CheckReport> {
  await reader.caughtUp();
  return checkPipeline({
    topics,
    agencies: AGENCIES,
    compiled,
    reader,
    requests: load.records,
    pool,
    schemaOf: subscriberSchemaFor,
    verifyLedger,
  });
}

/**
 * Runs one scenario under load, then pauses the load, lets the pipeline settle and checks
 * everything published so far. `fault` returns the measured recovery times to print.
 */
async function scenario(name: string, fault: () => Promise<string[] | { skipped: string }>): Promise<void> {
  load.setScenario(name);
  const respawnsBefore = pipeline.startFailures.length;
  load.start();
  let outcome: string[] | { skipped: string };
  try {
    outcome = await fault();
  } catch (err) {
    // Printed at once (jest reports failures only when the whole file ends).
    process.stdout.write(`faults: ${name}: FAILED: ${(err as Error).message}\n`);
    await load.pause();
    throw err;
  }
  if ('skipped' in outcome) {
    await load.pause();
    const line = `skipped: ${name}: ${outcome.skipped}`;
    lines.push(line);
    process.stdout.write(`${line}\n`);
    if (!(name in SCENARIO_EXCEPTIONS)) throw new Error(`${line} (not a documented exception)`);
    return;
  }
  await load.pause();
  let report: CheckReport | undefined;
  try {
    // Settled: nothing lost any more (in-flight deliveries arrived); duplicates never go away.
    report = await pollUntil(
      async () => {
        const r = await check();
        return r.lost.length === 0 && r.ledgerMissing.length === 0 ? r : false;
      },
      { description: `${name}: every accepted alert delivered and every audit event in the ledger`, timeoutMs: 180_000, intervalMs: 2_000 },
    );
  } catch {
    try {
      report = await check();
    } catch (err) {
      process.stdout.write(`faults: ${name}: FAILED: checker: ${(err as Error).message}\n`);
      throw err;
    }
  }
  const accepted = load.records.filter((r) => r.scenario === name && r.status === 201).length;
  const unanswered = load.records.filter((r) => r.scenario === name && r.status === null).length;
  const line =
    `faults: ${name}: ${accepted} accepted, ${report.lost.length + report.ledgerMissing.length} lost, ${report.duplicated.length} duplicated, ` +
    `ledger ${report.ledgerVerified ? 'verified' : `NOT verified (${report.ledgerProblem ?? 'no reason given'})`}; ${outcome.join(', ')}` +
    (report.leaked.length > 0 ? `; ${report.leaked.length} leaked` : '') +
    (unanswered > 0 ? `; ${unanswered} requests without a definitive answer` : '') +
    (pipeline.startFailures.length > respawnsBefore
      ? `; started again after PostgreSQL refused a connection: ${pipeline.startFailures.slice(respawnsBefore).join(', ')}`
      : '');
  lines.push(line);
  process.stdout.write(`${line}\n`);
  const exited = pipeline.exitedOnTheirOwn();
  expect({ scenario: name, exited }).toEqual({ scenario: name, exited: [] });
  expect(accepted).toBeGreaterThan(0);
  expect({ scenario: name, lost: report.lost.slice(0, 10), missingFromLedger: report.ledgerMissing.slice(0, 10) }).toEqual({
    scenario: name,
    lost: [],
    missingFromLedger: [],
  });
  expect({ scenario: name, duplicated: report.duplicated.slice(0, 10), leaked: report.leaked.slice(0, 10) }).toEqual({
    scenario: name,
    duplicated: [],
    leaked: [],
  });
  expect({ scenario: name, ledgerProblem: report.ledgerProblem }).toEqual({ scenario: name, ledgerProblem: null });
  // Every request retried with its Idempotency-Key (after a 5xx, a timeout, a refused connection or
  // 409 in progress) ended with one definitive answer within the load's retry deadline.
  expect({
    scenario: name,
    withoutDefinitiveAnswer: load.records.filter((r) => r.scenario === name && r.status === null).map((r) => `${r.key}: ${r.reason}`),
  }).toEqual({ scenario: name, withoutDefinitiveAnswer: [] });
  // The oracle both allowed and denied among the subscribed agencies, or the check proved little.
  expect(report.allowedPairs).toBeGreaterThan(0);
  expect(report.deniedPairs).toBeGreaterThan(0);
}

describe('backbone under faults (3-broker cluster, services as OS processes)', () => {
  beforeAll(async () => {
    // A run that dies before its first scenario leaves no lines of an earlier run behind.
    mkdirSync(join(REPO_ROOT, '.backbone', 'test-results'), { recursive: true });
    rmSync(FAULT_LINES_FILE, { force: true });
    const kafka = createKafka(connection, 'faults-admin');
    admin = kafka.admin();
    await admin.connect();
    const registry = loadRegistry(join(POLICIES, 'registry.yaml'));
    compiled = compilePolicy(registry, loadPolicy(POLICIES));
    await createTopics(admin, [topics.submitted], SUBMITTED_PARTITIONS);
    await createTopics(admin, [topics.audit], AUDIT_PARTITIONS);
    await createTopics(admin, [topics.deadLetter], DEAD_LETTER_PARTITIONS);
    await createTopics(
      admin,
      registry.agencies.map((a) => topics.feedFor(a.code)),
      FEED_PARTITIONS,
    );
    // The audit logger anchors checkpoints and parks on its own topic, each subscriber parks on its own: as the access plan creates them.
    const parked = [PARKING_SERVICES.auditLogger, ...AGENCIES.map((a) => PARKING_SERVICES.subscriber(a))].map((s) => topics.parkedFor(s));
    await createTopics(admin, [topics.checkpoints], 1);
    await createTopics(admin, parked, DEAD_LETTER_PARTITIONS);
    allTopics.push(
      topics.submitted,
      topics.audit,
      topics.deadLetter,
      topics.checkpoints,
      ...parked,
      ...registry.agencies.map((a) => topics.feedFor(a.code)),
    );

    db = await createTestDatabase({ label: 'faults' });
    pool = new pg.Pool({ connectionString: db.url, max: 4, application_name: 'faults-checker' });
    // Connections killed by the PostgreSQL scenario must not crash the test process.
    pool.on('error', () => undefined);
    const publisherDb = await openPublisherDatabase(db.url, 2);
    const officeToken = (await new CredentialStore(publisherDb).issue(OFFICE)).token;
    await publisherDb.destroy();
    // The ledger is provisioned with owner rights; the audit logger gets only its own role's URL.
    const auditDatabaseUrl = await provisionLedger(db.url);

    pipeline = new FaultPipeline(
      { ...FaultPipeline.kafkaEnv(connection, process.env['KAFKA_CA_FILE'] ?? '', prefix), DATABASE_URL: db.url, POLICIES_DIR: POLICIES },
      runId,
    );
    const started = [
      pipeline.add('audit', 'audit-logger', {
        AUDIT_CONSUMER_GROUP: `${prefix}audit-logger`,
        AUDIT_SIGNING_KEY_FILE: join(pipeline.logDir, 'signing-key.pem'),
        DATABASE_URL: auditDatabaseUrl,
      }),
      ...[1, 2].map((i) => pipeline.add(`gate-${i}`, 'policy-gate', { GATE_GROUP_ID: `${prefix}policy-gate`, GATE_INSTANCE_ID: `g${i}` })),
      ...AGENCIES.map((a) => pipeline.add(`sub-${a}`, 'agency-subscriber', { AGENCY_CODE: a, PURGE_INTERVAL_MS: '0' })),
      // A loaded 2-core machine replicating to 3 brokers: give a request more than the 4 s default to commit.
      pipeline.add('publisher', 'notice-publisher', { PUBLISH_TRANSACTIONAL_ID: `notice-publisher-${runId}`, PUBLISH_TIMEOUT_MS: '15000' }),
    ];
    for (const p of await Promise.all(started)) await pipeline.ready(p.name, 180_000);
    complianceToken = (await issueComplianceUser(pool, 'faults-checker')).token;

    // The oracle must both allow and deny among the subscribed agencies, or the check proves little.
    // The load's alerts as the engine sees them (the e2e oracle's sample with the same area).
    const sample = decide(
      sampleAlert({
        sent: new Date(),
        urgency: 'Immediate',
        expires: new Date(Date.now() + 7 * 86_400_000),
        area: { description: 'Schengen area', countries: ['FR', 'DE'] },
      }),
      compiled,
      new Date(),
    );
    const allowed = AGENCIES.filter((a) =>
      ['ALLOW', 'ALLOW_WITH_OBLIGATIONS'].includes(sample.outcomes.find((o) => o.agency === a)?.outcome ?? ''),
    );
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.length).toBeLessThan(AGENCIES.length);
    allowedAgency = allowed[0]!;

    reader = new TopicReader(kafka, admin, [topics.submitted, topics.audit, ...AGENCIES.map((a) => topics.feedFor(a))]);
    await reader.start();
    load = new AlertLoad(() => pipeline.url('publisher'), officeToken, runId);
    // The faults land on a pipeline in steady state, not on one still warming up: right after start
    // the three brokers' JIT and every service's first batches held both cores, and a restart in that
    // storm measured the storm. The load runs until a probe has gone end to end and for WARM_UP_MS;
    // its alerts are checked with the first scenario's.
    const warmUp = performance.now();
    load.setScenario('warm-up');
    load.start();
    await probe();
    await outageFor(Math.max(0, WARM_UP_MS - (performance.now() - warmUp)));
    await load.pause();
    process.stdout.write(`faults: pipeline up and warmed up in ${seconds(performance.now() - warmUp)} (logs ${pipeline.logDir})\n`);
  }, 600_000);

  afterAll(async () => {
    await load?.pause().catch(() => undefined);
    await pipeline?.stopAll();
    await reader?.stop();
    await pool?.end().catch(() => undefined);
    await db?.drop().catch(() => undefined);
    await admin?.deleteTopics({ topics: allTopics }).catch(() => undefined);
    await admin?.disconnect();
    process.stdout.write(`\n${lines.join('\n')}\n`);
    // For scripts/test.js, which puts them into the summary it prints (and .backbone/test-results/summary.txt).
    writeFileSync(FAULT_LINES_FILE, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  }, 300_000);

  it('SIGKILL of every service at random moments, repeatedly, restarted at once', async () => {
    await scenario('sigkill-services', async () => {
      const times: string[] = [];
      const order = [
        'gate-1',
        `sub-${AGENCIES[0]}`,
        'audit',
        'publisher',
        'gate-2',
        `sub-${AGENCIES[1]}`,
        `sub-${AGENCIES[2]}`,
        'gate-1',
        'audit',
      ];
      for (const name of order) {
        // A random moment under load: between 1 and 4 s after the previous recovery.
        await outageFor(1_000 + Math.random() * 3_000);
        times.push(`${name} ${seconds(await killAndMeasure(name))}`);
      }
      const t0 = performance.now();
      await probe();
      times.push(`probe end to end ${seconds(performance.now() - t0)}`);
      return [`restart-to-working ${times.join(', ')}`];
    });
  });

  it('a gate instance added and one removed under load', async () => {
    await scenario('gate-scale', async () => {
      const group = `${prefix}policy-gate`;
      const t0 = performance.now();
      await pipeline.add('gate-3', 'policy-gate', { GATE_GROUP_ID: group, GATE_INSTANCE_ID: 'g3' });
      await pollUntil(
        async () => {
          const m = await members(group);
          return m.state === 'Stable' && m.ids.length === 3;
        },
        { description: 'three gates sharing the partitions', timeoutMs: 120_000, intervalMs: 100 },
      );
      const added = performance.now() - t0;
      await outageFor(3_000);
      const t1 = performance.now();
      await pipeline.remove('gate-1');
      await pollUntil(
        async () => {
          const m = await members(group);
          return m.state === 'Stable' && m.ids.length === 2;
        },
        { description: 'two gates left sharing the partitions', timeoutMs: 120_000, intervalMs: 100 },
      );
      const removed = performance.now() - t1;
      const t2 = performance.now();
      await probe();
      return [
        `added-to-working ${seconds(added)}, removed-to-rebalanced ${seconds(removed)}, probe end to end ${seconds(performance.now() - t2)}`,
      ];
    });
  });

  it('PostgreSQL connections killed under load', async () => {
    await scenario('postgres-connections-killed', async () => {
      let killed = 0;
      for (let i = 0; i < 3; i++) {
        await outageFor(2_000);
        const r = await pool.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [db.name],
        );
        killed += r.rowCount ?? 0;
      }
      const t0 = performance.now();
      await probe();
      return [`${killed} connections killed, last kill to working ${seconds(performance.now() - t0)}`];
    });
  });

  it('SIGKILL of the broker leading the busiest partitions, then restart', async () => {
    await scenario('broker-leader-sigkill', async () => {
      const node = await busiestLeader(admin, topics.submitted);
      signalBroker(cluster, node, 'SIGKILL');
      const died = performance.now();
      await pollUntil(() => !processAlive(brokerPid(cluster, node)), { description: `node ${node} gone`, timeoutMs: 10_000 });
      await outageFor(OUTAGE_MS);
      const infra = await import('@backbone/infra');
      const t0 = performance.now();
      await infra.ensureBroker({ home: cluster.home, nodes: 3 });
      const restarted = performance.now() - t0;
      const t1 = performance.now();
      await probe();
      return [
        `node ${node} down ${seconds(t0 - died)}, restart ${seconds(restarted)}, restart-to-working ${seconds(performance.now() - t1 + restarted)}`,
      ];
    });
  });

  it('SIGSTOP of a broker longer than the session timeouts, then SIGCONT', async () => {
    await scenario('broker-sigstop', async () => {
      const node = await busiestLeader(admin, topics.submitted);
      signalBroker(cluster, node, 'SIGSTOP');
      try {
        await outageFor(HANG_MS);
      } finally {
        signalBroker(cluster, node, 'SIGCONT');
      }
      const t0 = performance.now();
      await probe();
      return [`node ${node} hung ${seconds(HANG_MS)}, SIGCONT-to-working ${seconds(performance.now() - t0)}`];
    });
  });

  it('a broker cut off by the network, then healed', async () => {
    await scenario('network-partition', async () => {
      const unusable = await iptablesUsable();
      if (unusable) return { skipped: unusable };
      const node = await busiestLeader(admin, topics.submitted);
      await partitionNode(cluster, node);
      try {
        await outageFor(OUTAGE_MS);
      } finally {
        await healNode(cluster, node);
      }
      const t0 = performance.now();
      await probe();
      return [`node ${node} cut off ${seconds(OUTAGE_MS)}, heal-to-working ${seconds(performance.now() - t0)}`];
    });
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
