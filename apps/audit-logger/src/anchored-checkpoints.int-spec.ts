import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin, Producer } from 'kafkajs';
import pg from 'pg';
import { auditEventCodec } from '@backbone/codec';
import { auditEvent, topicNames, type TopicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import {
  ANCHOR_READER_GROUP_PREFIX,
  entryHash,
  GENESIS_HASH,
  issueComplianceUser,
  LEDGER_SELECT,
  readAnchorsFromFile,
  readAnchorsFromKafka,
  rowToEntry,
  verifyLedger,
  type LedgerRow,
  type VerifyReport,
  provisionLedger,
} from '@backbone/ledger';
import { startTestAuditLogger as startAuditLogger, type RunningAuditLogger } from './audit-logger.test-kit.js';

// Attacker side: database owner rights. The checkpoints live in the database they protect, so the
// owner deletes them, rewrites the chain consistently and lets the logger sign the forged head.
// The anchors on Kafka and in the operator's file still hold the heads signed before.

const kafka = testKafka('admin', uniqueName('anchors'));
let admin: Admin;
let producer: Producer;
let db: TestDatabase;
let topics: TopicNames;
let prefix: string;
let running: RunningAuditLogger;
const dir = mkdtempSync(join(tmpdir(), 'anchors-'));
const anchorFile = join(dir, 'anchors.jsonl');

async function send(n: number, tag: string): Promise<void> {
  await producer.send({
    topic: topics.audit,
    acks: -1,
    messages: Array.from({ length: n }, (_, i) => {
      const e = auditEvent('DELIVERED', 'agency-subscriber', { agency: 'FR-NCB', details: { tag, i: String(i) } });
      return { key: e.eventId, value: auditEventCodec.encode(e) };
    }),
  });
}

async function verify(maxUnanchoredTail?: number): Promise<VerifyReport> {
  const anchors = readAnchorsFromFile(anchorFile);
  const keys = new Map([[running.signingKey.keyId, running.signingKey.publicKey]]);
  return verifyLedger(running.pool, keys, { anchors, ...(maxUnanchoredTail !== undefined ? { maxUnanchoredTail } : {}) });
}

async function verifyOverHttp(r: RunningAuditLogger, token: string): Promise<VerifyReport> {
  const res = await fetch(`${r.url}/compliance/verify`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as VerifyReport;
}

async function anchorReaderGroups(): Promise<Set<string>> {
  return new Set((await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(ANCHOR_READER_GROUP_PREFIX)));
}

async function asOwner<T>(work: (owner: pg.Client) => Promise<T>): Promise<T> {
  const owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  try {
    // The owner can lift the append-only triggers: that is the threat.
    await owner.query('ALTER TABLE audit.ledger DISABLE TRIGGER USER');
    await owner.query('ALTER TABLE audit.checkpoints DISABLE TRIGGER USER');
    return await work(owner);
  } finally {
    await owner.query('ALTER TABLE audit.ledger ENABLE TRIGGER USER').catch(() => undefined);
    await owner.query('ALTER TABLE audit.checkpoints ENABLE TRIGGER USER').catch(() => undefined);
    await owner.end();
  }
}

beforeAll(async () => {
  prefix = `${uniqueName('anch')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.audit, topics.checkpoints], 1);
  producer = kafka.producer();
  await producer.connect();
  db = await createTestDatabase({ label: 'anchored_checkpoints' });
  running = await startAuditLogger({
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: await provisionLedger(db.url),
    signingKeyFile: join(dir, 'checkpoint-key.pem'),
    groupId: uniqueName('anchors'),
    checkpointEveryRows: 10,
    checkpointEveryMs: 3_600_000,
    anchors: { topic: true, file: anchorFile },
  });
  await send(25, 'first');
  await pollUntil(() => running.consumer.stats.inserted >= 25, { description: '25 rows', timeoutMs: 30_000 });
  await running.writer.checkpointNow();
}, 90_000);

afterAll(async () => {
  await running?.close();
  await producer?.disconnect();
  await deleteTopics(admin, [topics.audit, topics.checkpoints]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
}, 60_000);

describe('checkpoints anchored outside the database', () => {
  it('every signed head is on the checkpoints topic and in the operator file, and verify agrees with them', async () => {
    const fromFile = readAnchorsFromFile(anchorFile);
    const cps = (await running.pool.query<{ seq: string }>('SELECT seq::text AS seq FROM audit.checkpoints ORDER BY seq')).rows.map(
      (r) => r.seq,
    );
    expect(fromFile.map((a) => a.seq)).toEqual(cps);
    expect(cps.at(-1)).toBe('25');
    const fromTopic = await readAnchorsFromKafka(kafka, topics.checkpoints, uniqueName('audit-logger-anchors-'));
    expect(fromTopic).toEqual(fromFile);
    expect(await verify()).toMatchObject({ ok: true, anchors: cps.length, latestAnchorSeq: 25 });
  }, 60_000);

  it('two ledgers on one broker share the checkpoints topic and each verifies clean against its own anchors', async () => {
    // A second ledger (its own database, the same signing key, the same topics): its heads at the
    // same seqs differ (recorded at other times), so reading the first ledger's anchors would fail it.
    const otherDb = await createTestDatabase({ label: 'anchored_checkpoints_other' });
    const other = await startAuditLogger({
      kafka: testKafkaConnection('admin'),
      prefix,
      databaseUrl: await provisionLedger(otherDb.url),
      signingKeyFile: join(dir, 'checkpoint-key.pem'),
      groupId: uniqueName('anchors-other'),
      checkpointEveryRows: 10,
      checkpointEveryMs: 3_600_000,
      anchors: { topic: true },
    });
    try {
      await pollUntil(() => other.consumer.stats.inserted >= 25, { description: '25 rows in the second ledger', timeoutMs: 30_000 });
      await other.writer.checkpointNow();
      const onTopic = await readAnchorsFromKafka(kafka, topics.checkpoints, uniqueName('audit-logger-anchors-'));
      expect(new Set(onTopic.map((a) => a.ledgerId)).size).toBe(2);
      for (const r of [running, other]) {
        const { token } = await issueComplianceUser(r.pool, uniqueName('carol').slice(0, 60));
        const res = await fetch(`${r.url}/compliance/verify`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        const report = (await res.json()) as VerifyReport;
        expect(report).toMatchObject({ ok: true, firstBreak: null, anchorProblem: null });
        expect(report.anchors).toBeGreaterThan(0);
      }
      // Each verify call is itself an audit event on the shared audit topic: both ledgers take in
      // both before the next test rewrites the first one.
      await pollUntil(() => running.consumer.stats.inserted >= 27 && other.consumer.stats.inserted >= 27, {
        description: 'the two AUDIT_ACCESSED events in both ledgers',
        timeoutMs: 30_000,
      });
    } finally {
      await other.close();
      await otherDb.drop();
    }
  }, 90_000);

  it('verify sees an anchor published just before the request, and follows the topic without a new group per verify', async () => {
    const { token } = await issueComplianceUser(running.pool, uniqueName('erin').slice(0, 60));
    const groupsBefore = await anchorReaderGroups();
    expect(running.anchorGroupId).not.toBeNull();
    expect(groupsBefore).toContain(running.anchorGroupId);
    // A new head, signed and anchored (acks=all) right before the request: the follower may not
    // have consumed it yet, but it is below the end offset verify reads, so verify must wait for it.
    const before = running.consumer.stats.inserted;
    await send(3, 'just-before');
    await pollUntil(() => running.consumer.stats.inserted >= before + 3, { description: '3 more rows', timeoutMs: 30_000 });
    await running.writer.checkpointNow();
    const head = (await running.pool.query<{ seq: string }>('SELECT max(seq)::text AS seq FROM audit.checkpoints')).rows[0]!.seq;
    const first = await verifyOverHttp(running, token);
    expect(first).toMatchObject({ ok: true, firstBreak: null, anchorProblem: null, latestAnchorSeq: Number(head) });
    const second = await verifyOverHttp(running, token);
    expect(second).toMatchObject({ ok: true, anchorProblem: null, latestAnchorSeq: Number(head), anchors: first.anchors });
    // Two verifies joined no group: the follower's own is still the only one this logger has.
    const added = [...(await anchorReaderGroups())].filter((g) => !groupsBefore.has(g));
    expect(added).toEqual([]);
    await pollUntil(() => running.consumer.stats.inserted >= before + 5, {
      description: 'the two AUDIT_ACCESSED events in the ledger',
      timeoutMs: 30_000,
    });
  }, 60_000);

  it('says the anchors could not be read when their topic is missing, instead of failing the request', async () => {
    const lonelyPrefix = `${uniqueName('anch-none')}.`;
    const lonelyTopics = topicNames(lonelyPrefix);
    await createTopics(admin, [lonelyTopics.audit], 1);
    const lonelyDb = await createTestDatabase({ label: 'anchored_checkpoints_none' });
    const lonely = await startAuditLogger({
      kafka: testKafkaConnection('admin'),
      prefix: lonelyPrefix,
      databaseUrl: await provisionLedger(lonelyDb.url),
      signingKeyFile: join(dir, 'lonely-key.pem'),
      groupId: uniqueName('anchors-none'),
      // No timed checkpoint: its anchor send would retry on the missing topic for a while.
      checkpointEveryMs: 3_600_000,
      anchors: { topic: true },
    });
    try {
      const { token } = await issueComplianceUser(lonely.pool, 'dave');
      const report = await verifyOverHttp(lonely, token);
      expect(report.ok).toBe(false);
      expect(report.firstBreak).toBeNull();
      expect(report.anchorProblem).toContain(lonelyTopics.checkpoints);

      // The topic created after the logger started: the next verify follows it.
      await createTopics(admin, [lonelyTopics.checkpoints], 1);
      await pollUntil(() => lonely.consumer.stats.inserted >= 1, { description: 'the first AUDIT_ACCESSED event', timeoutMs: 30_000 });
      await lonely.writer.checkpointNow();
      const seq = (await lonely.pool.query<{ seq: string }>('SELECT max(seq)::text AS seq FROM audit.checkpoints')).rows[0]!.seq;
      const later = await verifyOverHttp(lonely, token);
      expect(later).toMatchObject({ ok: true, firstBreak: null, anchorProblem: null, latestAnchorSeq: Number(seq) });
    } finally {
      await lonely.close();
      await deleteTopics(admin, [lonelyTopics.audit, lonelyTopics.checkpoints]).catch(() => undefined);
      await lonelyDb.drop();
    }
  }, 90_000);

  it('fails when the unsigned tail is longer than the bound', async () => {
    const before = running.consumer.stats.inserted;
    const anchored = Number(
      (await running.pool.query<{ seq: string }>('SELECT max(seq)::text AS seq FROM audit.checkpoints')).rows[0]!.seq,
    );
    await send(5, 'tail');
    await pollUntil(() => running.consumer.stats.inserted >= before + 5, { description: '5 more rows', timeoutMs: 30_000 });
    expect((await verify(3)).firstBreak).toMatchObject({ kind: 'unanchored-tail', seq: anchored + 1 });
    expect((await verify(10)).ok).toBe(true);
    // An owner who swaps the ledger id sheds every anchor (they name the old id): with anchoring on
    // and none left, the bound counts from the first row.
    const keys = new Map([[running.signingKey.keyId, running.signingKey.publicKey]]);
    expect((await verifyLedger(running.pool, keys, { anchors: [], maxUnanchoredTail: 10 })).firstBreak).toMatchObject({
      kind: 'unanchored-tail',
      seq: 1,
    });
  }, 60_000);

  it('an owner who alters a row, recomputes the chain, deletes the checkpoints and lets the logger re-sign is caught', async () => {
    await asOwner(async (owner) => {
      await owner.query(`UPDATE audit.ledger SET agency = 'DE-NCB' WHERE seq = 3`);
      // Recompute every hash from row 3 on, so the chain is consistent again.
      const rows = (await owner.query<LedgerRow>(`SELECT ${LEDGER_SELECT} FROM audit.ledger ORDER BY seq`)).rows;
      let prev = GENESIS_HASH;
      for (const row of rows) {
        const hash = entryHash(prev, rowToEntry(row));
        await owner.query('UPDATE audit.ledger SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, row.seq]);
        prev = hash;
      }
      await owner.query('DELETE FROM audit.checkpoints');
    });
    // Without anchors the rewrite is invisible, and the logger signs the forged head.
    await running.writer.checkpointNow();
    const keys = new Map([[running.signingKey.keyId, running.signingKey.publicKey]]);
    expect(await verifyLedger(running.pool, keys)).toMatchObject({ ok: true });
    // The anchors outside the database catch it.
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.firstBreak?.kind).toBe('checkpoint-missing');
  }, 60_000);

  it('an owner who deletes the checkpoints and puts one back over the rewritten chain (with a genuine old signature) is caught', async () => {
    const anchors = readAnchorsFromFile(anchorFile);
    const first = anchors[0]!;
    await asOwner(async (owner) => {
      // The first anchored checkpoint, re-inserted with the head the rewritten chain has now and the old signature.
      await owner.query('DELETE FROM audit.checkpoints');
      await owner.query(
        `INSERT INTO audit.checkpoints (seq, head_hash, signature, key_id) SELECT seq, hash, $1, $2 FROM audit.ledger WHERE seq = $3`,
        [Buffer.from(first.signature, 'base64'), first.keyId, first.seq],
      );
    });
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(['checkpoint-missing', 'bad-signature', 'checkpoint-mismatch']).toContain(report.firstBreak?.kind);
  }, 60_000);
});
