import type { Producer } from 'kafkajs';
import { createLogger } from '@backbone/bootstrap';
import { PARKING_SERVICES, topicNames, type ConsumerSafetySettings } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber, type RunningAgencySubscriber } from '../subscriber.test-kit.js';

/**
 * One isolated world for a feed-consumer test: its own topic prefix (one-partition feed, so every
 * record after a bad one waits behind it unless it is parked), database and producer. The
 * subscribers it starts are closed with it.
 */
export class FeedTestWorld {
  readonly prefix: string;
  readonly topics: ReturnType<typeof topicNames>;
  readonly feed: string;
  readonly parked: string;
  readonly groupId: string;
  readonly admin;
  readonly kafka;
  producer!: Producer;
  db!: TestDatabase;
  readonly running: RunningAgencySubscriber[] = [];
  private readonly logger;

  constructor(
    private readonly label: string,
    readonly agency: string,
    private readonly consumerSafety: ConsumerSafetySettings,
  ) {
    this.prefix = `${uniqueName(label)}.`;
    this.topics = topicNames(this.prefix);
    this.feed = this.topics.feedFor(agency);
    this.parked = this.topics.parkedFor(PARKING_SERVICES.subscriber(agency));
    this.groupId = `${this.prefix}subscriber-${agency}`;
    this.admin = testKafka('admin', uniqueName(`${label}-admin`)).admin();
    this.kafka = testKafka('admin', uniqueName(`${label}-producer`));
    this.logger = createLogger(`${label}-test`, process.env['LOG_LEVEL'] ?? 'silent');
  }

  async init(): Promise<this> {
    await this.admin.connect();
    await createTopics(this.admin, [this.feed, this.parked, this.topics.audit], 1);
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.db = await createTestDatabase({ label: this.label });
    return this;
  }

  async start(): Promise<RunningAgencySubscriber> {
    const sub = await startTestSubscriber({
      agency: this.agency,
      kafka: testKafkaConnection('admin'),
      prefix: this.prefix,
      databaseUrl: this.db.url,
      logger: this.logger,
      consumerSafety: this.consumerSafety,
    });
    this.running.push(sub);
    return sub;
  }

  /** The group's committed offset on partition 0 (-1: none yet) and the partition's high watermark. */
  async position(): Promise<{ committed: bigint; high: bigint }> {
    const [offsets] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.feed] });
    const committed = BigInt(offsets?.partitions.find((p) => p.partition === 0)?.offset ?? '-1');
    const high = BigInt((await this.admin.fetchTopicOffsets(this.feed)).find((p) => p.partition === 0)!.high);
    return { committed, high };
  }

  /** Waits until the group committed everything on the feed: only then is "nothing more" a fact. */
  async caughtUp(): Promise<void> {
    await pollUntil(
      async () => {
        const { committed, high } = await this.position();
        return committed === high;
      },
      { description: 'the group committed up to the high watermark', timeoutMs: 60_000 },
    );
  }

  /** Every record of `topic` up to its high watermark now (and at least `atLeast` of them), decoded. */
  async read<T>(topic: string, decode: (b: Buffer) => T, atLeast = 0): Promise<T[]> {
    const high = (await this.admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0);
    const total = Math.max(high, atLeast);
    const out: T[] = [];
    if (total === 0) return out;
    const consumer = this.kafka.consumer({ groupId: uniqueName(`${this.label}-reader`) });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void out.push(decode(message.value!)) });
    try {
      await pollUntil(() => out.length >= total, { description: `${total} records of ${topic}`, timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    return out;
  }

  /** A plain GET on the newest subscriber's HTTP port (metrics, health). */
  async text(path: string): Promise<{ status: number; body: string }> {
    const sub = this.running.at(-1);
    if (!sub) throw new Error('no subscriber started');
    const res = await fetch(`${sub.url}${path}`);
    return { status: res.status, body: await res.text() };
  }

  async close(): Promise<void> {
    for (const sub of this.running) await sub.close().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await deleteTopics(this.admin, [this.feed, this.parked, this.topics.audit]).catch(() => undefined);
    await this.admin.disconnect();
    await this.db?.drop();
  }
}
