import type { Admin, Consumer, Kafka } from 'kafkajs';
import { pollUntil, uniqueName } from '@backbone/testing';

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer;
  timestamp: string;
}

/**
 * Reads topics from the beginning with read_committed for the whole tier, as any committed
 * reader would, keeping every record once by position (a re-read after a restart adds nothing).
 * Caught up = the reader group's committed offset at each partition's high watermark (KafkaJS
 * commits past trailing transaction markers and aborted records too).
 */
export class TopicReader {
  private consumer: Consumer | undefined;
  private readonly groupId = uniqueName('faults-reader');
  private readonly seen = new Map<string, ReadRecord>();
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    readonly topics: readonly string[],
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      if (event.payload.restart || this.stopped) return;
      setTimeout(() => void this.start().catch(() => undefined), 1_000);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    await consumer.run({
      // Commit after every batch, including batches of nothing but transaction markers or aborted
      // records: otherwise the committed offset stops one short of the high watermark.
      autoCommitThreshold: 1,
      eachMessage: async ({ topic, partition, message }) => {
        if (!message.value) return;
        this.seen.set(`${topic}/${partition}/${message.offset}`, {
          topic,
          partition,
          offset: message.offset,
          value: message.value,
          timestamp: message.timestamp,
        });
      },
    });
  }

  async caughtUp(timeoutMs = 120_000): Promise<void> {
    await pollUntil(
      async () => {
        for (const topic of this.topics) {
          const ends = await this.admin.fetchTopicOffsets(topic);
          const [committed] = await this.admin.fetchOffsets({ groupId: this.groupId, topics: [topic] });
          const at = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
          if (!ends.every((e) => BigInt(e.high) === 0n || (at.get(e.partition) ?? -1n) >= BigInt(e.high))) return false;
        }
        return true;
      },
      { description: `reader of ${this.topics.join(', ')} to catch up`, timeoutMs, intervalMs: 300 },
    );
  }

  records(topic?: string): ReadRecord[] {
    const all = [...this.seen.values()];
    return topic ? all.filter((r) => r.topic === topic) : all;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
  }
}
