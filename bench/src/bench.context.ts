import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createKafka, createTopicsAndWait, type KafkaConnection } from '@backbone/kafka';

/** What every benchmark section shares: the broker, the database and a unique namespace for this run. */
export interface BenchContext {
  readonly quick: boolean;
  readonly repoRoot: string;
  readonly connection: KafkaConnection;
  readonly caFile: string | null;
  /** Folder of the broker's jars (for ProducerPerformance). */
  readonly kafkaLibs: string;
  readonly databaseUrl: string;
  /** Unique per run, so runs never read each other's records. */
  readonly runId: string;
  topic(name: string): string;
  kafka(clientId: string): Kafka;
  createTopics(names: string[], partitions: number): Promise<void>;
  deleteRunTopics(): Promise<void>;
  log(message: string): void;
}

export function createBenchContext(opts: {
  quick: boolean;
  repoRoot: string;
  connection: KafkaConnection;
  caFile: string | null;
  kafkaLibs: string;
  databaseUrl: string;
}): BenchContext {
  const runId = `bench-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
  const created: string[] = [];
  const ctx: BenchContext = {
    ...opts,
    runId,
    topic: (name) => `${runId}.${name}`,
    kafka: (clientId) => createKafka(opts.connection, clientId),
    async createTopics(names, partitions) {
      const admin = ctx.kafka('bench-admin').admin();
      await admin.connect();
      try {
        // Not KafkaJS's waitForLeaders: on a just-formatted broker it fails with UNKNOWN_TOPIC_OR_PARTITION.
        await createTopicsAndWait(
          admin,
          names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
        );
        created.push(...names);
      } finally {
        await admin.disconnect();
      }
    },
    async deleteRunTopics() {
      if (created.length === 0) return;
      const admin = ctx.kafka('bench-admin').admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: created.splice(0) });
      } finally {
        await admin.disconnect();
      }
    },
    log: (message) => process.stderr.write(`[bench] ${message}\n`),
  };
  return ctx;
}
