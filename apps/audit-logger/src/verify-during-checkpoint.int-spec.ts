import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin, Producer } from 'kafkajs';
import { auditEventCodec } from '@backbone/codec';
import { auditEvent, topicNames, type TopicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { provisionLedger, readAnchorsFromFile, verifyLedger } from '@backbone/ledger';
import { startTestAuditLogger, type RunningAuditLogger } from './audit-logger.test-kit.js';

// After a broker hang the ingest catches up and signs checkpoints while verify runs. Verify read the
// checkpoint rows first and the anchors (on Kafka, a consumer group join later) afterwards, so an
// anchor signed in between had no row in what it had read: "checkpoint-missing", although nothing
// was deleted (the fault tier's broker-sigstop: the ledger did not verify). The checkpoints are now
// read once the anchors' extent is fixed.

const kafka = testKafka('admin', uniqueName('verify-race'));
let admin: Admin;
let producer: Producer;
let db: TestDatabase;
let topics: TopicNames;
let running: RunningAuditLogger;
const dir = mkdtempSync(join(tmpdir(), 'verify-race-'));
const anchorFile = join(dir, 'anchors.jsonl');

async function ingest(n: number, tag: string): Promise<void> {
  const target = running.consumer.stats.inserted + n;
  await producer.send({
    topic: topics.audit,
    acks: -1,
    messages: Array.from({ length: n }, (_, i) => {
      const e = auditEvent('DELIVERED', 'agency-subscriber', { agency: 'FR-NCB', details: { tag, i: String(i) } });
      return { key: e.eventId, value: auditEventCodec.encode(e) };
    }),
  });
  await pollUntil(() => running.consumer.stats.inserted >= target, { description: `${target} rows in the ledger`, timeoutMs: 30_000 });
}

beforeAll(async () => {
  const prefix = `${uniqueName('vrace')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.audit, topics.checkpoints], 1);
  producer = kafka.producer();
  await producer.connect();
  db = await createTestDatabase({ label: 'verify_during_checkpoint' });
  running = await startTestAuditLogger({
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: await provisionLedger(db.url),
    signingKeyFile: join(dir, 'checkpoint-key.pem'),
    groupId: uniqueName('verify-race'),
    checkpointEveryRows: 1_000,
    checkpointEveryMs: 3_600_000,
    anchors: { topic: false, file: anchorFile },
  });
  await ingest(10, 'before');
  await running.writer.checkpointNow();
}, 90_000);

afterAll(async () => {
  await running?.close();
  await producer?.disconnect();
  await deleteTopics(admin, [topics.audit, topics.checkpoints]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
}, 60_000);

describe('verify while the ingest signs and anchors a checkpoint', () => {
  it('an anchor signed after verify started has its checkpoint row in what verify reads', async () => {
    const keys = new Map([[running.signingKey.keyId, running.signingKey.publicKey]]);
    let fixExtent: () => void = () => undefined;
    const extentFixed = new Promise<void>((resolve) => (fixExtent = resolve));
    const verifying = verifyLedger(running.pool, keys, {
      checkpointsAfter: extentFixed,
      // The anchors as they are once the extent is fixed: including the checkpoint signed meanwhile.
      anchorsFrom: extentFixed.then(() => ({ anchors: readAnchorsFromFile(anchorFile) })),
    });
    // Verify has been called; now the ingest appends and signs (and anchors) a new head.
    await ingest(5, 'during-verify');
    expect(await running.writer.checkpointNow()).toBe(true);
    fixExtent();
    const report = await verifying;
    expect(report).toMatchObject({ ok: true, firstBreak: null, anchors: 2, latestAnchorSeq: 15, checkpointsVerified: 2 });
  }, 60_000);
});
