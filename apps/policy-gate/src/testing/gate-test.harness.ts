import type { Admin, Consumer, IHeaders, Kafka, Producer } from 'kafkajs';
import { alertCodec, deliveryCodec, type Alert, type Delivery } from '@backbone/codec';
import { SUBMITTED_PARTITIONS, topicNames, type TopicNames } from '@backbone/kafka';
import { createTopics, deleteTopics, pollUntil, testKafka, uniqueName } from '@backbone/testing';
import { createLogger, startService, type Logger, type RunningService } from '@backbone/bootstrap';
import { KafkaConfig, type KafkaConnection, type RefusalAuditSettings } from '@backbone/kafka';
import type { OfficeIntrospectionClient } from '@backbone/office-auth';
import type { GatePolicy } from '../gate-policy.port.js';
import { loadEnginePolicy } from '../policy-engine.adapter.js';
import type { CommitHook } from '../policy-gate.consumer.js';
import { loadGateSettings } from '../policy-gate.config.js';
import { PolicyGateModule } from '../policy-gate.module.js';
import { PolicyGateRuntime, type RunningPolicyGate } from '../policy-gate.runtime.js';

/**
 * createTopics from @backbone/testing, tolerating KafkaJS's waitForLeaders giving up with
 * UNKNOWN_TOPIC_OR_PARTITION while the new topic's metadata spreads (it retries only
 * LEADER_NOT_AVAILABLE): the topics exist then, so wait until their metadata answers.
 */
async function createTopicsSettled(admin: Admin, names: string[], partitions: number): Promise<void> {
  try {
    await createTopics(admin, names, partitions);
  } catch (err) {
    if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
  }
  await pollUntil(
    async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      return topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0));
    },
    { description: `metadata of ${names.length} new topics`, timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** One test's isolated world: a topic prefix, its topics, an admin producer for inputs, and read_committed readers. */
export class GateTestWorld {
  readonly prefix = `${uniqueName('gate')}.`;
  readonly topics: TopicNames = topicNames(this.prefix);
  readonly groupId = uniqueName('policy-gate');
  private readonly readers: Consumer[] = [];
  private created: string[] = [];

  private constructor(
    readonly kafka: Kafka,
    readonly admin: Admin,
    readonly producer: Producer,
  ) {}

  static async create(agencies: readonly string[]): Promise<GateTestWorld> {
    const kafka = testKafka('admin', uniqueName('gate-test'));
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const world = new GateTestWorld(kafka, admin, producer);
    await createTopicsSettled(admin, [world.topics.submitted], SUBMITTED_PARTITIONS);
    const others = [world.topics.audit, world.topics.deadLetter, ...agencies.map((a) => world.topics.feedFor(a))];
    await createTopicsSettled(admin, others, 1);
    world.created = [world.topics.submitted, ...others];
    return world;
  }

  async submit(...alerts: Alert[]): Promise<void> {
    await this.producer.send({
      topic: this.topics.submitted,
      messages: alerts.map((a) => ({ key: a.alertId, value: alertCodec.encode(a) })),
    });
  }

  async submitRaw(key: string, value: Buffer): Promise<void> {
    await this.producer.send({ topic: this.topics.submitted, messages: [{ key, value }] });
  }

  /** Waits until the gate's group has committed every offset of alerts.submitted: all input decided and committed. */
  async waitForGateCommitted(timeoutMs = 60_000): Promise<void> {
    await pollUntil(
      async () => {
        const ends = await this.admin.fetchTopicOffsets(this.topics.submitted);
        const [committed] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topics.submitted] });
        const byPartition = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        return ends.every((e) => BigInt(e.high) === 0n || (byPartition.get(e.partition) ?? -1n) >= BigInt(e.high));
      },
      { description: `group ${this.groupId} to commit all of ${this.topics.submitted}`, timeoutMs, intervalMs: 200 },
    );
  }

  /**
   * Every committed record of `topics`, read from the beginning with read_committed, once the
   * reader has caught up with each partition's end. "Caught up" is the reader group's committed
   * offset reaching the high watermark: KafkaJS commits past trailing transaction markers and
   * aborted records too, which a count of seen data records cannot tell apart from a gap.
   */
  async readCommitted(
    topics: readonly string[],
    timeoutMs = 30_000,
  ): Promise<Map<string, { value: Buffer; offset: string; headers?: IHeaders }[]>> {
    const out = new Map<string, { value: Buffer; offset: string; headers?: IHeaders }[]>(topics.map((t) => [t, []]));
    const groupId = uniqueName('reader');
    const reader = this.kafka.consumer({ groupId, readUncommitted: false });
    this.readers.push(reader);
    await reader.connect();
    await reader.subscribe({ topics: [...topics], fromBeginning: true });
    await reader.run({
      // Commit after every batch, including batches of nothing but markers or aborted records.
      autoCommitThreshold: 1,
      eachMessage: async ({ topic, message }) => {
        out.get(topic)!.push({ value: message.value!, offset: message.offset, ...(message.headers ? { headers: message.headers } : {}) });
      },
    });
    try {
      await pollUntil(
        async () => {
          const committed = await this.admin.fetchOffsets({ groupId, topics: [...topics] });
          for (const topic of topics) {
            const mine = new Map(committed.find((c) => c.topic === topic)!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
            for (const p of await this.admin.fetchTopicOffsets(topic)) {
              if (BigInt(p.high) > 0n && (mine.get(p.partition) ?? -1n) < BigInt(p.high)) return false;
            }
          }
          return true;
        },
        { description: `read_committed reader to reach the end of ${topics.join(', ')}`, timeoutMs, intervalMs: 200 },
      );
    } finally {
      await reader.disconnect();
    }
    return out;
  }

  async deliveries(agencies: readonly string[]): Promise<Map<string, Delivery[]>> {
    const feeds = agencies.map((a) => this.topics.feedFor(a));
    const read = await this.readCommitted(feeds);
    return new Map(agencies.map((a) => [a, read.get(this.topics.feedFor(a))!.map((m) => deliveryCodec.decode(m.value))]));
  }

  async close(): Promise<void> {
    for (const r of this.readers) await r.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    await deleteTopics(this.admin, this.created).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}

export interface TestGateOptions {
  kafka: KafkaConnection;
  databaseUrl: string;
  /** Topic prefix of the test's world. */
  prefix: string;
  groupId?: string;
  instanceId?: string;
  /** Default: the engine over `policiesDir` (default `policies`). */
  policy?: GatePolicy;
  policiesDir?: string;
  logger?: Logger;
  maxBatchRecords?: number;
  onFatal?: (err: Error) => void;
  /** The fault seam: awaited before each commit. */
  beforeCommit?: CommitHook['beforeCommit'];
  /** Verifies office tokens for the preview; unset: the preview refuses everyone. */
  officeIntrospection?: OfficeIntrospectionClient;
  /** Refusal audit and anonymous rate limit; default: their defaults. */
  refusalAudit?: RefusalAuditSettings;
}

export interface TestGate extends RunningPolicyGate {
  readonly service: RunningService;
  close(): Promise<void>;
}

/** Starts a whole gate service (HTTP on a free port) through the one start-up function, as main.ts does. */
export async function startTestGate(o: TestGateOptions): Promise<TestGate> {
  const settings = loadGateSettings({
    GATE_INSTANCE_ID: o.instanceId ?? '0',
    GATE_GROUP_ID: o.groupId ?? 'policy-gate',
    ...(o.maxBatchRecords !== undefined ? { GATE_MAX_BATCH_RECORDS: String(o.maxBatchRecords) } : {}),
  });
  const policy = o.policy ?? loadEnginePolicy(o.policiesDir ?? 'policies');
  const service = await startService({
    name: 'policy-gate',
    module: PolicyGateModule.forRoot({
      kafka: KafkaConfig.of(o.kafka, o.prefix),
      settings: { ...settings, DATABASE_URL: o.databaseUrl },
      policy,
      ...(o.onFatal ? { onFatal: o.onFatal } : {}),
      ...(o.beforeCommit ? { commitHook: { beforeCommit: o.beforeCommit } } : {}),
      ...(o.officeIntrospection ? { officeIntrospection: o.officeIntrospection } : {}),
      ...(o.refusalAudit ? { refusalAudit: o.refusalAudit } : {}),
    }),
    logger: o.logger ?? createLogger('policy-gate', 'warn'),
    port: 0,
    shutdownHooks: false,
  });
  return { ...service.app.get(PolicyGateRuntime).running, service, close: () => service.close() };
}
