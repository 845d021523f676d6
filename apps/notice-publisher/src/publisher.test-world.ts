import 'reflect-metadata';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { createLogger, startService } from '@backbone/bootstrap';
import { KafkaConfig, SUBMITTED_PARTITIONS, topicNames, type RefusalAuditSettings } from '@backbone/kafka';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { alertInput, createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { PublisherConfig, type PublisherSettings } from './config/publisher.config.js';
import { NoticePublisherModule } from './notice-publisher.module.js';

/** One committed record of alerts.submitted as the world's reader saw it. */
export interface SubmittedRecord {
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
}

/**
 * A valid `POST /alerts` body without an expiry: a retry must send the very same body (its hash is
 * checked against the key's), and a clock-dependent field would change it.
 */
export function stableAlertBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return alertInput({ urgency: 'Expected', expires: undefined, ...overrides });
}

/**
 * The publisher's integration world: its own topic prefix, database, office tokens and a
 * read-committed reader of alerts.submitted that knows when it has reached the end, so "published
 * once" and "never published" are checked against everything Kafka holds.
 */
export class PublisherTestWorld {
  readonly prefix: string;
  readonly topics: ReturnType<typeof topicNames>;
  readonly submitted: SubmittedRecord[] = [];
  readonly tokens: Record<string, string> = {};
  db!: TestDatabase;
  ds!: DataSource;
  admin!: Admin;
  app: NestFastifyApplication | undefined;
  url = '';
  private reader: Consumer | undefined;
  /** Per partition of alerts.submitted: the last offset (control records included) the reader has passed. */
  private readonly readUpTo = new Map<number, bigint>();

  constructor(private readonly label: string) {
    this.prefix = `${uniqueName(label)}.`;
    this.topics = topicNames(this.prefix);
  }

  /** Database (tokens issued for `offices`), topics and the reader; `prepare` runs on the database before the reader starts. */
  async open(offices: readonly string[], prepare?: (ds: DataSource) => Promise<void>): Promise<this> {
    this.db = await createTestDatabase({ label: this.label.replace(/-/g, '_') });
    this.ds = await openPublisherDatabase(this.db.url, 2);
    const creds = new CredentialStore(this.ds);
    for (const office of offices) this.tokens[office] = (await creds.issue(office)).token;
    await prepare?.(this.ds);
    this.admin = testKafka('admin').admin();
    await this.admin.connect();
    await createTopics(this.admin, [this.topics.submitted], SUBMITTED_PARTITIONS);
    await createTopics(this.admin, [this.topics.audit], 3);
    const reader = testKafka('admin', uniqueName(`${this.label}-reader`)).consumer({
      groupId: uniqueName(`${this.label}-reader`),
      readUncommitted: false,
    });
    this.reader = reader;
    reader.on(reader.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === this.topics.submitted) this.readUpTo.set(payload.partition, BigInt(payload.lastOffset));
    });
    await reader.connect();
    await reader.subscribe({ topics: [this.topics.submitted], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ partition, message }) => {
        this.submitted.push({ partition, offset: message.offset, key: message.key!.toString(), value: message.value! });
      },
    });
    return this;
  }

  /** Starts the publisher on this world's database and topics; `settings` are its environment variables. */
  async startPublisher(
    settings: Partial<PublisherSettings>,
    extras: { kafkaClient?: Kafka; refusalAudit?: RefusalAuditSettings; bodyLimit?: number } = {},
  ): Promise<void> {
    const config = PublisherConfig.of({ PORT: 0, DATABASE_URL: this.db.url, ...settings });
    const service = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka: KafkaConfig.of(testKafkaConnection('admin'), this.prefix),
        config,
        ...(extras.kafkaClient ? { kafkaClient: extras.kafkaClient } : {}),
        ...(extras.refusalAudit ? { refusalAudit: extras.refusalAudit } : {}),
      }),
      logger: createLogger(`${this.label}-test`, 'silent'),
      port: 0,
      ...(extras.bodyLimit !== undefined ? { bodyLimit: extras.bodyLimit } : {}),
      shutdownHooks: false,
    });
    this.app = service.app;
    this.url = service.url;
  }

  /** Every committed record of alerts.submitted, once the reader has provably reached the end of every partition. */
  async allSubmitted(): Promise<SubmittedRecord[]> {
    const ends = await this.admin.fetchTopicOffsets(this.topics.submitted);
    await pollUntil(() => ends.every((e) => BigInt(e.high) === 0n || (this.readUpTo.get(e.partition) ?? -1n) + 1n >= BigInt(e.high)), {
      description: 'the reader at the end of alerts.submitted',
      timeoutMs: 30_000,
    });
    return [...this.submitted];
  }

  async close(): Promise<void> {
    await this.app?.close();
    await this.reader?.disconnect();
    if (this.admin) {
      await deleteTopics(this.admin, [this.topics.submitted, this.topics.audit]).catch(() => undefined);
      await this.admin.disconnect();
    }
    await this.ds?.destroy();
    await this.db?.drop();
  }
}
