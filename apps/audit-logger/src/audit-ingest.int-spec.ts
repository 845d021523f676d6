import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Admin, Producer } from 'kafkajs';
import pg from 'pg';
import { createLogger } from '@backbone/bootstrap';
import { auditEventCodec, deadLetterCodec, type AuditEvent, type DeadLetter } from '@backbone/codec';
import { auditEvent, DEFAULT_CONSUMER_SAFETY, PARKING_SERVICES, topicNames, type TopicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestAuditLogger, type RunningAuditLogger } from './audit-logger.test-kit.js';
import { issueComplianceUser, verifyLedger, provisionLedger } from '@backbone/ledger';
import { LedgerPositionConflict } from './ledger.positions.js';

jest.setTimeout(120_000);

const logger = createLogger('audit-ingest-test', process.env['LOG_LEVEL'] ?? 'silent');
const kafka = testKafka('admin', uniqueName('audit-ingest-test'));

/** One isolated world per test: topic prefix (one audit partition), database, key, group. */
class World {
  readonly prefix = `${uniqueName('ai')}.`;
  readonly topics: TopicNames = topicNames(this.prefix);
  readonly parked = this.topics.parkedFor(PARKING_SERVICES.auditLogger);
  readonly groupId = uniqueName('audit-ingest');
  readonly keyFile = join(mkdtempSync(join(tmpdir(), 'audit-ingest-')), 'signing-key.pem');
  admin!: Admin;
  producer!: Producer;
  db!: TestDatabase;
  running: RunningAuditLogger | undefined;
  /** The app role's URL, provisioned once per world. */
  appUrl: string | undefined;

  async init(): Promise<this> {
    this.admin = kafka.admin();
    await this.admin.connect();
    await createTopics(this.admin, [this.topics.audit, this.parked]);
    this.producer = kafka.producer();
    await this.producer.connect();
    this.db = await createTestDatabase({ label: 'audit_ingest' });
    return this;
  }

  async start(extra: { ingestClaimWaitMs?: number } = {}): Promise<RunningAuditLogger> {
    this.running = await startTestAuditLogger({
      ...extra,
      kafka: testKafkaConnection('admin'),
      prefix: this.prefix,
      databaseUrl: (this.appUrl ??= await provisionLedger(this.db.url)),
      signingKeyFile: this.keyFile,
      checkpointEveryRows: 1000,
      checkpointEveryMs: 60_000,
      groupId: this.groupId,
      logger,
      consumerSafety: { ...DEFAULT_CONSUMER_SAFETY, CONSUMER_RETRY_BACKOFF_MS: 10, CONSUMER_RETRY_BACKOFF_MAX_MS: 50 },
    });
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running?.close();
    this.running = undefined;
  }

  async send(events: AuditEvent[]): Promise<Buffer[]> {
    const values = events.map((e) => auditEventCodec.encode(e));
    await this.producer.send({
      topic: this.topics.audit,
      acks: -1,
      messages: values.map((value, i) => ({ key: events[i]!.eventId, value })),
    });
    return values;
  }

  async rows(where = 'true', params: unknown[] = []): Promise<number> {
    const r = this.running!;
    return (await r.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit.ledger WHERE ${where}`, params)).rows[0]!.n;
  }

  /** As the database owner (the app role cannot delete): what a restore from an older backup leaves. */
  async restoreTo(seq: number): Promise<void> {
    const owner = new pg.Client({ connectionString: this.db.url });
    await owner.connect();
    try {
      // A superuser session without triggers: the append-only guards stand for the app, not for a restore.
      await owner.query('SET session_replication_role = replica');
      await owner.query('DELETE FROM audit.checkpoints WHERE seq > $1', [seq]);
      await owner.query('DELETE FROM audit.ledger WHERE seq > $1', [seq]);
    } finally {
      await owner.end();
    }
  }

  async close(): Promise<void> {
    await this.stop().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await deleteTopics(this.admin, [this.topics.audit, this.parked]).catch(() => undefined);
    await this.admin?.disconnect();
    await this.db?.drop();
  }
}

const events = (n: number, tag: string): AuditEvent[] =>
  Array.from({ length: n }, (_, i) => auditEvent('DELIVERED', 'agency-subscriber', { agency: 'FR-NCB', details: { tag, i: String(i) } }));

/** A bare group member (the audit ingest's group timing) that reports when it has joined. */
const DEAD_MEMBER = `
import { Kafka, logLevel } from 'kafkajs';
const c = JSON.parse(process.env.CONN);
const kafka = new Kafka({ clientId: 'predecessor', brokers: c.brokers, ssl: c.ssl, sasl: c.sasl, logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: process.env.GROUP, sessionTimeout: 6000, heartbeatInterval: 1000, rebalanceTimeout: 10000 });
consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined\\n'));
await consumer.connect();
await consumer.subscribe({ topic: process.env.TOPIC, fromBeginning: true });
await consumer.run({ eachMessage: async () => undefined });
`;

/** Backends holding an advisory lock in this test's database (the ingest's claim). */
async function advisoryLockHolders(client: pg.Client): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows.map((row) => row.pid);
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('audit ingest: poison, restore and recreated topic (real broker and PostgreSQL)', () => {
  it('restarts while a SIGKILLed predecessor is still a member of its group: removes it at once (its claim proves it dead)', async () => {
    world = await new World().init();
    // A real process joins the group as the audit logger would, then dies without leaving it.
    const predecessor = spawn(process.execPath, ['--input-type=module', '-e', DEAD_MEMBER], {
      env: { ...process.env, CONN: JSON.stringify(testKafkaConnection('admin')), GROUP: world.groupId, TOPIC: world.topics.audit },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    predecessor.stdout.on('data', (d: Buffer) => (said += d.toString()));
    await pollUntil(() => said.includes('joined'), { description: 'the predecessor joined the group', timeoutMs: 30_000 });
    predecessor.kill('SIGKILL');
    await new Promise((resolve) => predecessor.once('exit', resolve));
    const { groups } = await world.admin.describeGroups([world.groupId]);
    expect(groups[0]!.state).toBe('Stable'); // the dead member is still there: the case under test
    const dead = groups[0]!.members.map((m) => m.memberId);
    expect(dead).toHaveLength(1);

    const r = await world.start();
    // Removed by the restarted ingest (LeaveGroup on its behalf), not left to its session.
    expect(r.consumer.evictedAtStart).toEqual(dead);
    await world.send(events(2, 'after-restart'));
    await pollUntil(() => r.consumer.stats.inserted >= 2, { description: 'the restarted ingest records events', timeoutMs: 30_000 });
  });

  it('a second audit logger on the same group is refused while the first holds the claim, and removes no member of it', async () => {
    world = await new World().init();
    const first = await world.start();
    await world.send(events(1, 'first'));
    await pollUntil(() => first.consumer.stats.inserted >= 1, { description: 'the first ingest records events', timeoutMs: 30_000 });
    const membersBefore = (await world.admin.describeGroups([world.groupId])).groups[0]!.members.map((m) => m.memberId);

    // The attack: another deployment pointed at the same ledger and group.
    const second = new World();
    Object.assign(second, {
      prefix: world.prefix,
      topics: world.topics,
      groupId: world.groupId,
      keyFile: world.keyFile,
      appUrl: world.appUrl,
    });
    await expect(second.start({ ingestClaimWaitMs: 1_500 })).rejects.toThrow(
      /another audit logger holds the ingest claim of consumer group/,
    );

    // The first is untouched: still the group's one member, still ingesting.
    expect((await world.admin.describeGroups([world.groupId])).groups[0]!.members.map((m) => m.memberId)).toEqual(membersBefore);
    await world.send(events(1, 'after-refusal'));
    await pollUntil(() => first.consumer.stats.inserted >= 2, { description: 'the first ingest goes on', timeoutMs: 30_000 });
  });

  it('claims again when the connection holding its claim is killed, and goes on ingesting', async () => {
    world = await new World().init();
    const r = await world.start();
    const owner = new pg.Client({ connectionString: world.db.url });
    await owner.connect();
    try {
      const holders = (): Promise<number[]> => advisoryLockHolders(owner);
      const [before] = await holders();
      expect(before).toBeDefined();
      await owner.query('SELECT pg_terminate_backend($1)', [before]);
      await pollUntil(async () => (await holders()).some((pid) => pid !== before), {
        description: 'the claim held again on a new connection',
        timeoutMs: 30_000,
      });
      expect(r.consumer.failure).toBeUndefined();
      await world.send(events(2, 'after-claim-lost'));
      await pollUntil(() => r.consumer.stats.inserted >= 2, { description: 'ingest goes on', timeoutMs: 30_000 });
    } finally {
      await owner.end();
    }
  });

  it('a restart of the ingest during a re-claim shares the re-claim: it never finds its own lock and takes it for a rival', async () => {
    world = await new World().init();
    const claimWaitMs = 2_000;
    const r = await world.start({ ingestClaimWaitMs: claimWaitMs });
    const owner = new pg.Client({ connectionString: world.db.url });
    await owner.connect();
    const key = `backbone.audit-ingest:${world.groupId}`;
    try {
      const holders = (): Promise<number[]> => advisoryLockHolders(owner);
      const [before] = await holders();
      expect(before).toBeDefined();
      // Kill the claim's connection and queue for its lock in one statement: PostgreSQL hands a
      // released lock to the session already waiting for it, so the re-claim now finds it held and
      // waits, as it would while PostgreSQL is still coming back.
      await owner.query('SELECT pg_terminate_backend($1), pg_advisory_lock(hashtext($2))', [before, key]);
      const ingest = r.consumer as unknown as { claim: unknown; claimSingleton(): Promise<void> };
      await pollUntil(() => ingest.claim === undefined, { description: 'the claim seen as lost', timeoutMs: 10_000 });
      // What the supervisor's in-process restart does first (start() → claimSingleton), while the
      // re-claim is under way. Two attempts of one process would be two connections, and the one
      // that did not get the lock would find it held (by its own process) until the wait ran out.
      const restartAt = Date.now();
      const restartClaim = ingest.claimSingleton();
      await owner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      await restartClaim;
      const after = await holders();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before);
      expect(after[0]).not.toBe((await owner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
      expect(r.consumer.failure).toBeUndefined();
      await world.send(events(2, 'after-restart-claim'));
      await pollUntil(() => r.consumer.stats.inserted >= 2, { description: 'ingest goes on', timeoutMs: 30_000 });
      // A second attempt of this process, had there been one, would still be waiting, and would call
      // the lock a rival's when its wait ran out: the check is over only once that wait has passed.
      await pollUntil(() => r.consumer.failure !== undefined || Date.now() > restartAt + claimWaitMs + 1_000, {
        description: 'the claim wait over',
        timeoutMs: claimWaitMs + 5_000,
      });
      expect(r.consumer.failure).toBeUndefined();
    } finally {
      await owner.end();
    }
  });

  it('parks an audit event PostgreSQL refuses, keeps its position with a placeholder, and shows it to compliance', async () => {
    world = await new World().init();
    const r = await world.start();
    const poison = auditEvent('ACKNOWLEDGED', 'agency-subscriber', { agency: 'DE-NCB', actor: 'desk\u0000one' });
    const [, poisonBytes] = await world.send([...events(1, 'before'), poison, ...events(1, 'after')]);
    await pollUntil(async () => (await world!.rows()) === 3, {
      description: 'two events and one placeholder in the ledger',
      timeoutMs: 30_000,
    });

    const placeholder = (
      await r.pool.query<{ kafka_offset: string; payload: Buffer; details: Record<string, string> }>(
        `SELECT * FROM audit.ledger WHERE reason = 'PARKED'`,
      )
    ).rows;
    expect(placeholder).toHaveLength(1);
    expect(String(placeholder[0]!.kafka_offset)).toBe('1');
    expect(placeholder[0]!.payload.equals(poisonBytes!)).toBe(true);
    expect(placeholder[0]!.details['parkReason']).toBe('UNSTORABLE');

    const letters: DeadLetter[] = [];
    const reader = kafka.consumer({ groupId: uniqueName('parked-reader') });
    await reader.connect();
    await reader.subscribe({ topic: world.parked, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void letters.push(deadLetterCodec.decode(message.value!)) });
    try {
      await pollUntil(() => letters.length >= 1, { description: 'the parked audit event', timeoutMs: 30_000 });
    } finally {
      await reader.disconnect();
    }
    expect(letters[0]).toMatchObject({ service: 'audit-logger', sourceTopic: world.topics.audit, sourceOffset: 1, reason: 'UNSTORABLE' });
    expect(letters[0]!.value!.equals(poisonBytes!)).toBe(true);

    const report = await verifyLedger(r.pool, new Map([[r.signingKey.keyId, r.signingKey.publicKey]]));
    expect(report).toMatchObject({ ok: true, rows: 3, parked: 1, undecodable: 0 });
    const { token } = await issueComplianceUser(r.pool, 'carol');
    const res = await fetch(`${r.url}/compliance/parked`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Record<string, unknown>[] };
    expect(body.items).toEqual([
      expect.objectContaining({ kind: 'PARKED', parkReason: 'UNSTORABLE', offset: '1', value: poisonBytes!.toString('base64') }),
    ]);
    expect((await fetch(`${r.url}/compliance/parked`)).status).toBe(401);
    expect(r.safety.metrics.totals.parked).toBe(1);
  });

  it('after a database restore resumes from the ledger, re-reading what the restore lost (nothing skipped)', async () => {
    world = await new World().init();
    await world.start();
    await world.send(events(20, 'first'));
    await pollUntil(async () => (await world!.rows()) === 20, { description: '20 rows', timeoutMs: 30_000 });
    await world.stop();
    // The restored database knows only the first 8 events; the group's committed offset is 20.
    await world.restoreTo(8);
    const r = await world.start();
    expect(r.consumer.resumePlan?.partitions).toEqual([{ partition: 0, offset: '8' }]);
    await world.send(events(5, 'second'));
    await pollUntil(async () => (await world!.rows()) === 25, { description: '25 rows after the restore', timeoutMs: 30_000 });
    expect(await world.rows(`details->>'tag' = 'first'`)).toBe(20);
    const report = await verifyLedger(r.pool, new Map([[r.signingKey.keyId, r.signingKey.publicKey]]));
    expect(report).toMatchObject({ ok: true, rows: 25 });
  });

  it('after audit.events was recreated records the new events in a new generation instead of calling them duplicates', async () => {
    world = await new World().init();
    await world.start();
    await world.send(events(10, 'old'));
    await pollUntil(async () => (await world!.rows()) === 10, { description: '10 rows', timeoutMs: 30_000 });
    await world.stop();
    await deleteTopics(world.admin, [world.topics.audit]);
    await pollUntil(
      async () => {
        try {
          await createTopics(world!.admin, [world!.topics.audit]);
          return (await world!.admin.fetchTopicOffsets(world!.topics.audit)).length === 1;
        } catch {
          return false;
        }
      },
      { description: 'the audit topic recreated', timeoutMs: 30_000 },
    );
    await world.send(events(4, 'new'));
    let r = await world.start();
    expect(r.consumer.resumePlan).toMatchObject({ recreated: true, generation: 1, ledgerTopic: `${world.topics.audit}#g1` });
    await pollUntil(async () => (await world!.rows()) === 14, { description: 'the new events recorded', timeoutMs: 30_000 });
    expect(await world.rows(`topic = $1`, [`${world.topics.audit}#g1`])).toBe(4);
    expect(r.consumer.stats.duplicates).toBe(0);

    // A later start stays in the new generation and resumes after its last position.
    await world.stop();
    await world.send(events(2, 'newer'));
    r = await world.start();
    expect(r.consumer.resumePlan).toMatchObject({ recreated: false, generation: 1, partitions: [{ partition: 0, offset: '4' }] });
    await pollUntil(async () => (await world!.rows()) === 16, { description: 'the newer events recorded', timeoutMs: 30_000 });
  });

  it('refuses to start when events after the ledger position were already deleted from the topic', async () => {
    world = await new World().init();
    await world.start();
    await world.send(events(10, 'first'));
    await pollUntil(async () => (await world!.rows()) === 10, { description: '10 rows', timeoutMs: 30_000 });
    await world.stop();
    await world.restoreTo(3);
    // Retention (here: an explicit delete) removed offsets 0..6: events 3..6 exist nowhere any more.
    await world.admin.deleteTopicRecords({ topic: world.topics.audit, partitions: [{ partition: 0, offset: '7' }] });
    await expect(world.start()).rejects.toThrow(LedgerPositionConflict);
    await expect(world.start()).rejects.toThrow(/up to offset 2, but the topic now starts at 7/);
  });
});
