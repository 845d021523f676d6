// `npm start` as a user runs it: scripts/start.js on the built tree, every service under its own
// SCRAM principal over TLS with exactly the ACLs `backbone infra up` provisions. Every other
// integration and e2e test runs the services as the admin principal, so a missing ACL (a service
// that may not write a topic, join its group or use its transactional id) only shows here.
// Everything is driven through public doors: HTTP with the demo credentials start.js writes under
// $BACKBONE_HOME/credentials, the CLI, and — from the attacker's side — one agency subscriber's own
// Kafka credentials as `infra up` wrote them under $BACKBONE_HOME/kafka.
//
// start.js uses the real topic names, so only one such stack may run on a broker at a time: the
// test waits (bounded) until no other stack's gate is a member of the `policy-gate` group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { auditEventCodec, type Alert } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { backboneHome, eventKeyFile } from '@backbone/infra';
import { auditEvent, encodeAuditEvent, readEventSigningKey, topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { compilePolicy, decide, loadPolicy, loadRegistry } from '@backbone/policy';
import { alertInput, pollUntil, testKafka, uniqueName } from '@backbone/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POLICIES = join(ROOT, 'policies');
/** Distinct from the bench's stack (18580) and the default 8080; start.js uses base … base+20+agencies. */
const PORT_BASE = 18680;
const SENDER = 'FR-NCB';
/** Allowed by the shipped policy for the alert below (EU). */
const ALLOWED = 'DE-NCB';
const TOPICS = topicNames();
const SERVICE_LOGS = ['notice-publisher', 'policy-gate', 'audit-logger', 'subscribers', 'console'];
const AUTHORIZATION_ERRORS =
  /TOPIC_AUTHORIZATION_FAILED|GROUP_AUTHORIZATION_FAILED|TRANSACTIONAL_ID_AUTHORIZATION_FAILED|CLUSTER_AUTHORIZATION_FAILED|not authorized/i;

const home = backboneHome();
const credentialsDir = join(home, 'credentials');
const logsDir = join(home, 'logs');

interface TrailEvent {
  type: string;
  agency: string | null;
  alertVersion: number | null;
}

/** A desk's SSE stream, collected as raw text until closed. */
class DeskStream {
  text = '';
  private readonly controller = new AbortController();

  constructor(url: string, token: string) {
    void (async () => {
      try {
        const res = await fetch(`${url}/stream`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          signal: this.controller.signal,
        });
        if (!res.ok || !res.body) {
          this.text += `\n[stream refused: HTTP ${res.status}]`;
          return;
        }
        const decoder = new TextDecoder();
        for await (const chunk of res.body) this.text += decoder.decode(chunk as Uint8Array, { stream: true });
      } catch {
        // aborted at the end of the test
      }
    })();
  }

  /** The JSON data of every event on the stream about `alertId`. */
  eventsAbout(alertId: string): { alertId: string; version?: number }[] {
    return this.text
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l.includes(alertId))
      .map((l) => JSON.parse(l.slice(6)) as { alertId: string; version?: number })
      .filter((e) => e.alertId === alertId);
  }

  close(): void {
    this.controller.abort();
  }
}

describe('npm start under the real principals', () => {
  const admin = testKafka('admin', uniqueName('stack-admin')).admin();
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let exited = false;
  let output = '';
  /** Where each service log stood before this stack started: only what it appends is scanned. */
  const logStart = new Map<string, number>();
  let publisherUrl = '';
  let auditUrl = '';
  let gateUrl = '';
  const subscriberUrls = new Map<string, string>();
  let offices: Record<string, string> = {};
  let desks: Record<string, Record<string, string>> = {};
  let complianceToken = '';
  let denied = '';
  const streams: DeskStream[] = [];

  beforeAll(async () => {
    await admin.connect();
    // Another npm start stack on this broker (a user's, the bench's) owns the real topics and the
    // gate's transactional id; wait until it is gone rather than fence it.
    await pollUntil(async () => ((await admin.describeGroups(['policy-gate'])).groups[0]?.members.length ?? 0) === 0, {
      description: 'no other npm start stack on this broker (policy-gate group empty)',
      timeoutMs: 180_000,
      intervalMs: 2000,
    });
    db = await createTestDatabase({ label: 'stack' });
    for (const name of SERVICE_LOGS) {
      const file = join(logsDir, `${name}.log`);
      logStart.set(name, existsSync(file) ? statSync(file).size : 0);
    }
    child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, DATABASE_URL: db.url, BACKBONE_PORT_BASE: String(PORT_BASE) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.on('exit', () => (exited = true));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start not ready within 300 s:\n${output.slice(-2000)}`)), 300_000);
      child!.stdout!.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('Backbone is running.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child!.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      child!.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited (${code}) before it was ready:\n${output.slice(-2000)}`));
      });
    });
    const urlOf = (name: string): string => new RegExp(`${name}\\s+(http://\\S+)`).exec(output)![1]!;
    publisherUrl = urlOf('notice-publisher');
    gateUrl = urlOf('policy-gate');
    auditUrl = urlOf('audit-logger');
    for (const m of output.matchAll(/([A-Z]{2}-[A-Z]+) (http:\/\/127\.0\.0\.1:\d+)/g)) subscriberUrls.set(m[1]!, m[2]!);
    offices = JSON.parse(readFileSync(join(credentialsDir, 'offices.json'), 'utf8')) as typeof offices;
    desks = JSON.parse(readFileSync(join(credentialsDir, 'desks.json'), 'utf8')) as typeof desks;
    complianceToken = readFileSync(join(credentialsDir, 'compliance.token'), 'utf8').trim();
  }, 500_000);

  afterAll(async () => {
    for (const s of streams) s.close();
    if (child?.pid && !exited) {
      process.kill(-child.pid, 'SIGTERM');
      const until = Date.now() + 10_000;
      while (!exited && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    await admin.disconnect();
    await db?.drop().catch(() => undefined);
  }, 60_000);

  /** What the stack's services appended to their logs since this stack started. */
  const stackLogs = (): string =>
    SERVICE_LOGS.map((name) => {
      const file = join(logsDir, `${name}.log`);
      return existsSync(file)
        ? readFileSync(file)
            .subarray(logStart.get(name) ?? 0)
            .toString('utf8')
        : '';
    }).join('\n');

  const compliance = async (path: string): Promise<Response> =>
    fetch(`${auditUrl}${path}`, { headers: { authorization: `Bearer ${complianceToken}` } });

  const trailOf = async (alertId: string): Promise<TrailEvent[]> => {
    const res = await compliance(`/compliance/alerts/${alertId}/trail`);
    if (res.status === 404) return [];
    expect(res.status).toBe(200);
    return ((await res.json()) as { events: TrailEvent[] }).events;
  };

  const office = async (path: string, body: unknown): Promise<{ alertId: string; version: number }> => {
    const res = await fetch(`${publisherUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${offices[SENDER]}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { alertId: string; version: number };
    expect({ path, status: res.status, json }).toMatchObject({ status: 201 });
    return json;
  };

  const alertBody = (headline: string): Record<string, unknown> =>
    alertInput({
      headline,
      subject: {
        familyName: 'DUPONT',
        forenames: 'Jean',
        nationalities: ['FR'],
        biometrics: { fingerprintRefs: ['FP-1'], photoRefs: [] },
        identityDocuments: [{ kind: 'PASSPORT', number: '12AB34567', issuingCountry: 'FR' }],
      },
    });

  let alertId = '';

  it('carries an alert, its update and its cancel from an office to an allowed desk, and nothing to a denied agency', async () => {
    // The oracle: the engine on the same content picks an agency the policy denies.
    const compiled = compilePolicy(loadRegistry(join(POLICIES, 'registry.yaml')), loadPolicy(POLICIES));
    const asSubmitted: Alert = sampleAlert({
      urgency: 'Immediate',
      sent: new Date(),
      expires: new Date(Date.now() + 7 * 86_400_000),
      area: { description: 'Schengen area', countries: ['FR', 'DE'] },
    });
    const outcomes = decide(asSubmitted, compiled, new Date()).outcomes;
    const allows = (a: string): boolean =>
      ['ALLOW', 'ALLOW_WITH_OBLIGATIONS'].includes(outcomes.find((o) => o.agency === a)?.outcome ?? '');
    expect(allows(ALLOWED)).toBe(true);
    denied = [...subscriberUrls.keys()].find((a) => a !== SENDER && !allows(a)) ?? '';
    expect(denied).not.toBe('');

    const allowedStream = new DeskStream(subscriberUrls.get(ALLOWED)!, desks[ALLOWED]!['all']!);
    const deniedStream = new DeskStream(subscriberUrls.get(denied)!, desks[denied]!['all']!);
    streams.push(allowedStream, deniedStream);

    const headline = `Stack e2e ${uniqueName('alert')}`;
    alertId = (await office('/alerts', alertBody(headline))).alertId;
    await pollUntil(async () => allowedStream.eventsAbout(alertId).length > 0, {
      description: `${ALLOWED}'s desk stream carries the alert`,
      timeoutMs: 60_000,
      intervalMs: 200,
    });
    const ack = await fetch(`${subscriberUrls.get(ALLOWED)}/inbox/${alertId}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${desks[ALLOWED]!['all']}` },
    });
    expect(ack.status).toBe(200);

    expect((await office(`/alerts/${alertId}/updates`, alertBody(`${headline} (update)`))).version).toBe(2);
    expect((await office(`/alerts/${alertId}/cancel`, { note: 'Subject arrested' })).version).toBe(3);
    await pollUntil(async () => allowedStream.eventsAbout(alertId).some((e) => e.version === 3), {
      description: `${ALLOWED}'s desk stream carries the cancel`,
      timeoutMs: 60_000,
      intervalMs: 200,
    });

    // The gate wrote every feed of a decision in one transaction, so the denied agency's feed is
    // final too; its subscriber must have read all of it before its silence proves anything: its
    // committed offset at the high watermark. Every writer of a feed (the gate, the audit logger's
    // replay) is transactional, so each partition ends with a commit marker, which a consumer
    // need not commit past: the marker's own offset (high watermark − 1) is the end of its data.
    const feed = TOPICS.feedFor(denied);
    await pollUntil(
      async () => {
        const high = await admin.fetchTopicOffsets(feed);
        const committed = (await admin.fetchOffsets({ groupId: `subscriber-${denied}`, topics: [feed] }))[0]!.partitions;
        return high.every(
          (h) => Number(h.high) === 0 || Number(committed.find((c) => c.partition === h.partition)?.offset ?? -1) >= Number(h.high) - 1,
        );
      },
      { description: `subscriber-${denied} caught up with ${feed}`, timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(deniedStream.eventsAbout(alertId)).toEqual([]);
    const deniedInbox = await fetch(`${subscriberUrls.get(denied)}/inbox/${alertId}`, {
      headers: { authorization: `Bearer ${desks[denied]!['all']}` },
    });
    expect(deniedInbox.status).toBe(404);
  }, 180_000);

  it('records the whole path in the compliance trail, and the ledger verifies', async () => {
    const has = (events: TrailEvent[], type: string, agency?: string, version?: number): boolean =>
      events.some(
        (e) => e.type === type && (agency === undefined || e.agency === agency) && (version === undefined || e.alertVersion === version),
      );
    let events: TrailEvent[] = [];
    await pollUntil(
      async () => {
        events = await trailOf(alertId);
        return (
          [1, 2, 3].every((v) => has(events, 'SUBMITTED', undefined, v) && has(events, 'DECIDED', undefined, v)) &&
          [1, 2, 3].every((v) => has(events, 'DELIVERED', ALLOWED, v)) &&
          has(events, 'ACKNOWLEDGED', ALLOWED, 1)
        );
      },
      { description: 'SUBMITTED, DECIDED, DELIVERED and ACKNOWLEDGED in the trail', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(events.filter((e) => e.agency === denied && ['DELIVERED', 'ACKNOWLEDGED'].includes(e.type))).toEqual([]);

    const verify = await compliance('/compliance/verify');
    const report = (await verify.json()) as {
      ok: boolean;
      rows: number;
      headSeq: number;
      checkpoints: number;
      checkpointsVerified: number;
      unsignedEvents: number;
      firstBreak: { kind: string } | null;
    };
    expect(verify.status).toBe(200);
    // The chain walk (hashes, event signatures, signed checkpoints) holds in full, and the anchors
    // agree: anchors name their ledger, so earlier stacks' anchors on a reused broker do not count.
    expect(report).toMatchObject({ rows: report.headSeq, checkpointsVerified: report.checkpoints, unsignedEvents: 0 });
    expect(report.firstBreak).toBeNull();
    expect(report.ok).toBe(true);
  }, 120_000);

  it('replays the allowed agency’s feed under the audit logger’s own principal (its transactional id and feed writes)', async () => {
    const cli = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'backbone.js'), 'audit', 'users', 'issue', uniqueName('stack-replayer'), '--role', 'compliance-replayer'],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url }, timeout: 60_000 },
    );
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const replayer = cli.stdout.trim();
    const res = await fetch(`${auditUrl}/compliance/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${replayer}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        agency: ALLOWED,
        since: new Date(Date.now() - 600_000).toISOString(),
        until: new Date(Date.now() + 60_000).toISOString(),
      }),
    });
    const body = (await res.json()) as { replayed?: number };
    expect({ status: res.status, body }).toMatchObject({ status: 200, body: { replayed: expect.any(Number) } });
    expect(body.replayed).toBeGreaterThanOrEqual(1);
    await pollUntil(async () => (await trailOf(alertId)).some((e) => e.type === 'REPLAYED' && e.agency === ALLOWED), {
      description: 'the replay of the alert in its trail',
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  }, 120_000);

  it('refuses one agency subscriber’s own Kafka principal what it must not do, and parks its forged audit events', async () => {
    const attacker = `subscriber-${denied}`;
    const kafka = testKafka(attacker, uniqueName('stack-attacker'));
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      // Publish an alert around the publisher and the gate.
      await expect(producer.send({ topic: TOPICS.submitted, acks: -1, messages: [{ key: 'x', value: 'forged' }] })).rejects.toThrow(
        /authoriz/i,
      );
      // Forged audit events: unsigned, and a gate decision signed with the attacker's own key.
      const forgedId = randomUUID();
      const unsigned = auditEvent('DELIVERED', 'agency-subscriber', { alertId: forgedId, alertVersion: 1, agency: ALLOWED });
      const claimsGate = auditEvent('DECIDED', 'policy-gate', {
        alertId: forgedId,
        alertVersion: 1,
        policyVersion: '2026-11-01',
        decisions: [{ agency: denied, outcome: 'ALLOW', ruleId: 'addressing.all', redactedGroups: [], executionFlags: [] }],
      });
      const ownKey = readEventSigningKey(eventKeyFile(attacker));
      await producer.send({
        topic: TOPICS.audit,
        acks: -1,
        messages: [
          { key: forgedId, value: auditEventCodec.encode(unsigned) },
          { key: forgedId, value: encodeAuditEvent(claimsGate, ownKey) },
        ],
      });
      const parkedForged = (): string[] => parkedList().filter((l) => l.includes(forgedId) && /FORGED/.test(l));
      await pollUntil(async () => parkedForged().length >= 2, {
        description: 'both forged events parked as FORGED',
        timeoutMs: 60_000,
        intervalMs: 1000,
      });
      expect(await trailOf(forgedId)).toEqual([]);
    } finally {
      await producer.disconnect();
    }

    // Read another agency's feed.
    const consumer = kafka.consumer({ groupId: attacker });
    await consumer.connect();
    try {
      let error: unknown;
      await consumer.subscribe({ topic: TOPICS.feedFor(ALLOWED), fromBeginning: true }).catch((e: unknown) => (error = e));
      if (!error) {
        const crashed = new Promise<unknown>((resolve) => consumer.on(consumer.events.CRASH, (e) => resolve(e.payload.error)));
        await consumer.run({ eachMessage: async () => undefined });
        error = await crashed;
      }
      expect(String((error as Error).message ?? error)).toMatch(/authoriz/i);
    } finally {
      await consumer.disconnect();
    }
  }, 120_000);

  it('parks nothing of the alert, logs no authorization error, and every service is ready', async () => {
    const res = await compliance('/compliance/parked?limit=1000');
    expect(res.status).toBe(200);
    const parked = ((await res.json()) as { items: { value: string | null; detail: string | null }[] }).items;
    expect(parked.filter((p) => (p.value ? Buffer.from(p.value, 'base64').toString('latin1') : '').includes(alertId))).toEqual([]);
    expect(parkedList().filter((l) => l.includes(alertId))).toEqual([]);

    const refusals = stackLogs()
      .split('\n')
      .filter((l) => AUTHORIZATION_ERRORS.test(l));
    expect(refusals).toEqual([]);

    for (const url of [publisherUrl, gateUrl, auditUrl, ...subscriberUrls.values()]) {
      const ready = await fetch(`${url}/health/ready`);
      expect({ url, status: ready.status }).toEqual({ url, status: 200 });
    }
    expect(exited).toBe(false);
  }, 60_000);
});

/**
 * Every parked record on every service's dead-letter topic, as `backbone parked list --json`
 * prints it (operator's admin principal), each line with its base64 fields decoded beside it so
 * an alert id inside the original bytes can be found.
 */
function parkedList(): string[] {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'backbone.js'), 'parked', 'list', '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: process.env,
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`backbone parked list failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const json = JSON.parse(line) as Record<string, unknown>;
      const decoded = ['key', 'value', 'raw']
        .map((k) => (typeof json[k] === 'string' ? Buffer.from(json[k], 'base64').toString('latin1') : ''))
        .join(' ');
      return `${line} ${decoded}`;
    });
}
