import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import { figure, type Figures } from './figures.js';
import { percentile } from './stats.js';
import type { BenchContext } from './bench.context.js';

const PARTITIONS = 6;

/**
 * Raw KafkaJS produce: batched, acks=all, idempotent, several sends in flight across partitions.
 * Each sender has its own producer. KafkaJS rolls back the sequence numbers of every partition of
 * a produce request that failed, including partitions the broker had written; a second send on the
 * same producer then reuses those numbers for other records and the broker answers
 * OUT_OF_ORDER_SEQUENCE_NUMBER, which is fatal (one CI run lost its bench this way). A producer's
 * own retry resends the same records with the same numbers, which the broker recognises as a
 * duplicate, so one send at a time per producer is safe.
 */
async function kafkajsProduce(kafka: Kafka, topic: string, count: number, size: number): Promise<number> {
  const inFlight = 4;
  const producers = Array.from({ length: inFlight }, () =>
    kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }),
  );
  await Promise.all(producers.map((p) => p.connect()));
  const value = randomBytes(size);
  const batch = 500;
  const start = performance.now();
  let next = 0;
  const worker = async (producer: Producer): Promise<void> => {
    while (next < count) {
      const n = Math.min(batch, count - next);
      next += n;
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, () => ({ key: randomUUID(), value })),
      });
    }
  };
  try {
    await Promise.all(producers.map(worker));
    return (count * 1000) / (performance.now() - start);
  } finally {
    await Promise.all(producers.map((p) => p.disconnect()));
  }
}

/** Raw KafkaJS consume of what was produced, from the beginning, batch at a time. */
async function kafkajsConsume(kafka: Kafka, topic: string, count: number): Promise<number> {
  const groupId = `bench-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 16 * 1024 * 1024, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let start = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (start === 0) start = performance.now();
        seen += batch.messages.length;
        if (seen >= count) resolve(performance.now());
      },
    });
  });
  try {
    const end = await withTimeout(done, 120_000, 'consume ceiling');
    return (count * 1000) / (end - start);
  } finally {
    await consumer.disconnect();
    await dropGroup(kafka, groupId);
  }
}

/** Single-record produce→consume latency at a modest fixed rate: the floor any end-to-end latency sits on. */
async function kafkajsRoundTrip(kafka: Kafka, topic: string, count: number, size: number): Promise<number[]> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const groupId = `bench-rt-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 10 });
  await Promise.all([producer.connect(), consumer.connect()]);
  // The topic is new to this run, so reading from the beginning misses nothing; "latest" could be
  // resolved after the first records were sent and silently skip them.
  await consumer.subscribe({ topic, fromBeginning: true });
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let assigned: () => void = () => undefined;
  const ready = new Promise<void>((r) => (assigned = r));
  consumer.on(consumer.events.GROUP_JOIN, () => assigned());
  try {
    await consumer.run({
      eachMessage: async ({ message }) => {
        const t = sentAt.get(message.key?.toString() ?? '');
        if (t !== undefined) latencies.push(performance.now() - t);
        if (latencies.length >= count) resolveDone();
      },
    });
    await withTimeout(ready, 30_000, 'round-trip consumer join');
    const value = randomBytes(size);
    for (let i = 0; i < count; i++) {
      const key = randomUUID();
      sentAt.set(key, performance.now());
      await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    }
    await withTimeout(done, 60_000, `round trip (${latencies.length} of ${count} arrived)`);
    return latencies;
  } finally {
    await Promise.all([producer.disconnect(), consumer.disconnect()]);
    await dropGroup(kafka, groupId);
  }
}

/** Bench groups are single-use: leave nothing behind on the broker. */
async function dropGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Kafka's own Java producer (ProducerPerformance from kafka-tools), same record size, acks=all. */
function javaProduce(ctx: BenchContext, topic: string, count: number, size: number): number | null {
  const dir = mkdtempSync(join(tmpdir(), 'bench-java-'));
  const props = join(dir, 'producer.properties');
  const conn = ctx.connection;
  const lines = [`bootstrap.servers=${conn.brokers.join(',')}`, 'acks=all', 'enable.idempotence=true', 'compression.type=none'];
  if (conn.sasl) {
    lines.push(`security.protocol=${conn.ssl ? 'SASL_SSL' : 'SASL_PLAINTEXT'}`, `sasl.mechanism=${conn.sasl.mechanism.toUpperCase()}`);
    lines.push(
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${conn.sasl.username}" password="${conn.sasl.password}";`,
    );
  }
  if (ctx.caFile) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${ctx.caFile}`, 'ssl.endpoint.identification.algorithm=');
  writeFileSync(props, lines.join('\n') + '\n', { mode: 0o600 });
  const r = spawnSync(
    'java',
    [
      '-Xmx512m',
      '-cp',
      `${ctx.kafkaLibs}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      topic,
      '--num-records',
      String(count),
      '--record-size',
      String(size),
      '--throughput',
      '-1',
      '--producer.config',
      props,
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  const summary = /([\d.]+) records\/sec/.exec((r.stdout ?? '').trim().split('\n').at(-1) ?? '');
  if (r.status !== 0 || !summary) {
    ctx.log(`java ProducerPerformance failed: ${r.stderr?.slice(-500) ?? r.error?.message}`);
    return null;
  }
  return Number(summary[1]);
}

export interface Ceilings {
  produce: number;
  consume: number;
  java: number | null;
  roundTrip: number[];
}

export async function benchCeilings(ctx: BenchContext, size: number): Promise<{ figures: Figures; ceilings: Ceilings }> {
  const count = ctx.quick ? 20_000 : 200_000;
  const topic = ctx.topic('ceiling');
  const javaTopic = ctx.topic('ceiling-java');
  const rtTopic = ctx.topic('ceiling-rt');
  await ctx.createTopics([topic, javaTopic, rtTopic], PARTITIONS);
  const kafka = ctx.kafka('bench-ceiling');
  const produce = await kafkajsProduce(kafka, topic, count, size);
  const consume = await kafkajsConsume(kafka, topic, count);
  const java = javaProduce(ctx, javaTopic, count, size);
  const roundTrip = await kafkajsRoundTrip(kafka, rtTopic, ctx.quick ? 100 : 500, size);
  const rt99 = percentile(roundTrip, 99);
  return {
    ceilings: { produce, consume, java, roundTrip },
    figures: {
      'ceiling.kafkajs.produce_per_s': figure(
        produce,
        'records/s',
        java,
        `${size} B records, acks=all, idempotent; ceiling: Java producer`,
      ),
      'ceiling.kafkajs.consume_per_s': figure(consume, 'records/s', consume, 'the ceiling itself'),
      'ceiling.java.produce_per_s':
        java === null
          ? figure(null, 'records/s', null, 'ProducerPerformance did not run')
          : figure(java, 'records/s', java, 'the ceiling itself'),
      'ceiling.kafkajs.roundtrip_p99_ms': figure(rt99, 'ms', rt99, 'single-record produce→consume, the floor of e2e latency'),
    },
  };
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
