// Kafka fuzz (issue 11, item 8): random bytes, mutated valid records and well-formed records no
// store can hold, interleaved with valid records, into every topic a service consumes
// (alerts.submitted -> gate, alerts.feed.DE-NCB -> subscriber, audit.events -> audit logger),
// against the real broker and PostgreSQL. Seeded and reproducible. Invariants checked:
// - every service keeps consuming: each group's committed offsets reach every partition's end
//   (a partition that does not is "stuck");
// - every input record has exactly one outcome (processed, or parked with a reason): none is
//   "lost", none "duplicated"; a valid record is processed, never parked.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import pg from 'pg';
import { createLogger } from '@backbone/bootstrap';
import { alertCodec, auditEventCodec, deliveryCodec, type DeadLetter } from '@backbone/codec';
import { sampleAlert, sampleDelivery } from '@backbone/codec/testing';
import { auditEvent, DEFAULT_CONSUMER_SAFETY, PARKING_SERVICES, readParked, topicNames, TRAILING_MARKER_SLACK } from '@backbone/kafka';
import { createTestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber } from '../../apps/agency-subscriber/src/subscriber.test-kit.js';
import { provisionLedger } from '@backbone/ledger';
import { startTestAuditLogger } from '../../apps/audit-logger/src/audit-logger.test-kit.js';
import { addressingTestPolicy } from '../../apps/policy-gate/src/testing/addressing.test-policy.js';
import { startTestGate } from '../../apps/policy-gate/src/testing/gate-test.harness.js';

export interface KafkaFuzzOptions {
  seed: number;
  records: number;
  log: (line: string) => void;
}

export interface KafkaFuzzResult {
  records: number;
  stuck: number;
  lost: number;
  duplicated: number;
}

type Kind = 'valid' | 'random' | 'mutated' | 'unstorable';

interface Input {
  target: 'gate' | 'feed' | 'audit';
  kind: Kind;
  key: string;
  value: Buffer;
  /** The id the service stores a processed record under (alertId, or eventId), when known. */
  id: string | null;
}

/** mulberry32: small, seedable, good enough to pick cases reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENCIES = ['FR-NCB', 'DE-NCB'];
const PARTITIONS = 3;

export async function runKafkaFuzz(opts: KafkaFuzzOptions): Promise<KafkaFuzzResult> {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  const uuid = (): string => {
    const b = bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  const mutate = (valid: Buffer): Buffer => {
    const out = Buffer.from(valid);
    // Past the 10-byte header most of the time, so the body (not just the marker) is exercised.
    const flips = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < flips; i++) out[Math.floor(rnd() * out.length)] = Math.floor(rnd() * 256);
    return rnd() < 0.2 ? out.subarray(0, Math.floor(rnd() * out.length)) : out;
  };
  const kindOf = (): Kind => {
    const r = rnd();
    return r < 0.6 ? 'valid' : r < 0.72 ? 'random' : r < 0.88 ? 'mutated' : 'unstorable';
  };

  const logger = createLogger('kafka-fuzz', process.env['LOG_LEVEL'] ?? 'silent');
  const prefix = `${uniqueName(`fuzz${opts.seed}`)}.`;
  const topics = topicNames(prefix);
  const feed = topics.feedFor('DE-NCB');
  const subParked = topics.parkedFor(PARKING_SERVICES.subscriber('DE-NCB'));
  const auditParked = topics.parkedFor(PARKING_SERVICES.auditLogger);
  const all = [topics.submitted, feed, topics.audit, topics.deadLetter, subParked, auditParked, topics.feedFor('FR-NCB')];
  const kafka: Kafka = testKafka('admin', uniqueName('kafka-fuzz'));
  const admin: Admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, all, PARTITIONS);
  const db = await createTestDatabase({ label: 'kafka_fuzz' });
  const groups = { gate: uniqueName('fuzz-gate'), sub: uniqueName('fuzz-sub'), audit: uniqueName('fuzz-audit') };
  const fast = { ...DEFAULT_CONSUMER_SAFETY, CONSUMER_RETRY_BACKOFF_MS: 5, CONSUMER_RETRY_BACKOFF_MAX_MS: 50 };
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const gate = await startTestGate({
    kafka: testKafkaConnection('admin'),
    databaseUrl: db.url,
    prefix,
    groupId: groups.gate,
    instanceId: randomUUID(),
    policy: addressingTestPolicy(AGENCIES),
    logger,
  });
  const sub = await startTestSubscriber({
    agency: 'DE-NCB',
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: db.url,
    groupId: groups.sub,
    logger,
    consumerSafety: fast,
  });
  const audit = await startTestAuditLogger({
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: await provisionLedger(db.url),
    groupId: groups.audit,
    signingKeyFile: join(mkdtempSync(join(tmpdir(), 'kafka-fuzz-')), 'key.pem'),
    logger,
    consumerSafety: fast,
  });
  opts.log(`kafka fuzz: seed ${opts.seed}, ${opts.records} records, prefix ${prefix}`);
  try {
    const inputs: Input[] = [];
    for (let i = 0; i < opts.records; i++) {
      const target = pick(['gate', 'feed', 'audit'] as const);
      const kind = kindOf();
      const id = target === 'audit' ? randomUUID() : uuid();
      // Unstorable: valid Avro, but a NUL in a string PostgreSQL keeps (headline, or the audit actor).
      const headline = kind === 'unstorable' ? `fuzz\u0000${i}` : `fuzz ${i}`;
      let valid: Buffer;
      if (target === 'gate') valid = alertCodec.encode(sampleAlert({ alertId: id, headline, sent: new Date() }));
      else if (target === 'feed') {
        const alert = sampleAlert({ alertId: id, headline });
        valid = deliveryCodec.encode(
          sampleDelivery({
            deliveryId: uuid(),
            recipient: 'DE-NCB',
            alertId: id,
            alertVersion: 1,
            msgType: alert.msgType,
            alert: alertCodec.encode(alert),
          }),
        );
      } else {
        valid = auditEventCodec.encode(
          auditEvent('ACKNOWLEDGED', 'fuzz', { eventId: id, agency: 'DE-NCB', actor: kind === 'unstorable' ? `desk\u0000${i}` : 'desk' }),
        );
      }
      const value = kind === 'random' ? bytes(Math.floor(rnd() * 64)) : kind === 'mutated' ? mutate(valid) : valid;
      inputs.push({ target, kind, key: id, value, id: kind === 'random' || kind === 'mutated' ? null : id });
    }
    const topicOf = { gate: topics.submitted, feed, audit: topics.audit } as const;
    for (let i = 0; i < inputs.length; i += 200) {
      const chunk = inputs.slice(i, i + 200);
      await producer.sendBatch({
        acks: -1,
        topicMessages: (['gate', 'feed', 'audit'] as const).map((t) => ({
          topic: topicOf[t],
          messages: chunk.filter((x) => x.target === t).map((x) => ({ key: x.key, value: x.value })),
        })),
      });
    }
    opts.log(`kafka fuzz: ${inputs.length} records produced; waiting for every group to reach every partition's end`);

    // Stuck: a group whose committed offset does not reach a partition's end within the deadline.
    let stuck = 0;
    for (const [group, topic, slack] of [
      [groups.gate, topics.submitted, 0n],
      [groups.sub, feed, TRAILING_MARKER_SLACK],
      [groups.audit, topics.audit, 0n],
    ] as const) {
      try {
        await pollUntil(async () => (await behind(admin, group, topic, slack)).length === 0, {
          description: `${group} caught up on ${topic}`,
          timeoutMs: 120_000,
          intervalMs: 500,
        });
      } catch {
        const late = await behind(admin, group, topic, slack);
        stuck += late.length;
        opts.log(`kafka fuzz: STUCK ${topic} partitions ${late.join(', ')}`);
      }
    }
    // The audit topic also receives what the gate and the subscriber emit while they work: wait again.
    await pollUntil(async () => (await behind(admin, groups.audit, topics.audit)).length === 0, {
      description: 'audit caught up',
      timeoutMs: 60_000,
    }).catch(() => undefined);

    // The gate's tables are not the audit role's to read: the owner looks at them.
    const owner = new pg.Pool({ connectionString: db.url, max: 2 });
    const outcomes = await account(inputs, {
      kafka,
      db: audit.pool,
      owner,
      gateParked: topics.deadLetter,
      subParked,
      auditTopic: topics.audit,
      sub,
    });
    await owner.end();
    opts.log(`kafka fuzz: ${JSON.stringify(outcomes.byKind)}`);
    return { records: inputs.length, stuck, lost: outcomes.lost, duplicated: outcomes.duplicated };
  } finally {
    await audit.close().catch(() => undefined);
    await sub.close().catch(() => undefined);
    await gate.close().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await deleteTopics(admin, all).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}

/**
 * Partitions the group has not consumed to the end. `slack` allows the trailing transaction marker
 * a read_committed eachMessage consumer never commits past (the feed is written by the gate's
 * transactions; see TRAILING_MARKER_SLACK): the outcome accounting then proves every record was handled.
 */
async function behind(admin: Admin, groupId: string, topic: string, slack = 0n): Promise<number[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const mine = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  return ends
    .filter((e) => BigInt(e.high) > BigInt(e.low) && (mine.get(e.partition) ?? -1n) + slack < BigInt(e.high))
    .map((e) => e.partition);
}

interface AccountContext {
  kafka: Kafka;
  db: pg.Pool;
  owner: pg.Pool;
  gateParked: string;
  subParked: string;
  auditTopic: string;
  sub: Awaited<ReturnType<typeof startTestSubscriber>>;
}

/**
 * One outcome per input. Records are matched by content: the parked dead letter carries the
 * original bytes; a processed record is found by its id (alertId in the gate's decisions and the
 * inbox, eventId in the ledger). A mutated record that still decodes may be processed under an id
 * we cannot predict: it counts as accounted for when it is not parked (its partition was not stuck).
 */
async function account(
  inputs: Input[],
  ctx: AccountContext,
): Promise<{ lost: number; duplicated: number; byKind: Record<string, number> }> {
  const parkedBy = new Map<string, number>();
  const addParked = (target: string, letters: (DeadLetter | null)[]): void => {
    for (const l of letters)
      if (l?.value)
        parkedBy.set(`${target}:${l.value.toString('base64')}`, (parkedBy.get(`${target}:${l.value.toString('base64')}`) ?? 0) + 1);
  };
  addParked(
    'gate',
    (await readParked(ctx.kafka, ctx.gateParked)).map((r) => r.letter).filter((l) => l?.service === 'policy-gate'),
  );
  addParked(
    'feed',
    (await readParked(ctx.kafka, ctx.subParked)).map((r) => r.letter),
  );
  const ledger = await ctx.db.query<{ event_id: string; reason: string | null; type: string; payload: Buffer | null }>(
    `SELECT event_id::text, reason, type, payload FROM audit.ledger WHERE topic = $1`,
    [ctx.auditTopic],
  );
  const ledgerById = new Map<string, number>();
  for (const r of ledger.rows) {
    if (r.type === 'UNKNOWN' && r.payload)
      parkedBy.set(`audit:${r.payload.toString('base64')}`, (parkedBy.get(`audit:${r.payload.toString('base64')}`) ?? 0) + 1);
    else ledgerById.set(r.event_id, (ledgerById.get(r.event_id) ?? 0) + 1);
  }
  const decided = new Map<string, number>();
  const decisions = await ctx.owner.query<{ alert_id: string }>(`SELECT alert_id::text FROM policy_gate.alert_decisions`);
  for (const r of decisions.rows) decided.set(r.alert_id, (decided.get(r.alert_id) ?? 0) + 1);

  // Identical inputs (e.g. two mutations truncated to nothing) share a content key: each may be parked once.
  const sameBytes = new Map<string, number>();
  for (const x of inputs)
    sameBytes.set(`${x.target}:${x.value.toString('base64')}`, (sameBytes.get(`${x.target}:${x.value.toString('base64')}`) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  const byKind: Record<string, number> = {};
  for (const x of inputs) {
    byKind[`${x.target}.${x.kind}`] = (byKind[`${x.target}.${x.kind}`] ?? 0) + 1;
    const contentKey = `${x.target}:${x.value.toString('base64')}`;
    const parked = (parkedBy.get(contentKey) ?? 0) / (sameBytes.get(contentKey) ?? 1);
    let processed = 0;
    if (x.id) {
      if (x.target === 'gate') processed = decided.get(x.id) ?? 0;
      else if (x.target === 'feed') processed = await ctx.sub.inbox.versionCount(x.id);
      else processed = ledgerById.get(x.id) ?? 0;
    }
    const total = processed + parked;
    if (x.kind === 'valid' && processed !== 1) lost++;
    else if (x.kind === 'random' && parked < 1 && x.value.length > 0) lost++;
    else if (x.kind === 'unstorable' && x.target !== 'gate' && parked < 1) lost++;
    else if (x.kind === 'unstorable' && x.target === 'gate' && processed !== 1) lost++;
    if (total > 1 && x.kind !== 'random') duplicated++;
  }
  return { lost, duplicated, byKind };
}
