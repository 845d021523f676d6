import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, jest } from '@jest/globals';

// scripts/patch-kafkajs.js fixes six KafkaJS 2.2.4 bugs at install (the sixth is checked
// against the real broker in kafkajs-abort.int-spec.ts); these checks fail if an
// install skipped it or an upgrade changed the code it patches.
const require = createRequire(import.meta.url);

interface RequestQueueLike {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  requestTimeoutIntervalId: NodeJS.Timeout | null | undefined;
  checkPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
  push(request: { entry: object; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  destroy(): void;
}

const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

afterEach(() => {
  jest.useRealTimers();
});

describe('KafkaJS patches (scripts/patch-kafkajs.js)', () => {
  it('an idle request queue arms no timer (no 1 ms loop per connection)', () => {
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => RequestQueueLike;
    const queue = new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: 'spec',
      broker: 'localhost:1',
      logger: quietLogger,
    });
    try {
      queue.checkPendingRequests();
      expect(queue.pending).toHaveLength(0);
      expect(queue.throttleCheckTimeoutId).toBeNull();
    } finally {
      queue.destroy();
    }
  });

  it('checks request timeouts only while a request is in flight (no 100 ms interval per idle connection)', async () => {
    jest.useFakeTimers();
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => RequestQueueLike;
    const queue = new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 30_000,
      enforceRequestTimeout: true,
      clientId: 'spec',
      broker: 'localhost:1',
      logger: quietLogger,
    });
    try {
      // As the connection does once it is open: the check starts, finds nothing in flight and stops.
      queue.scheduleRequestTimeoutCheck();
      jest.advanceTimersByTime(100);
      expect(queue.requestTimeoutIntervalId).toBeNull();
      expect(jest.getTimerCount()).toBe(0);

      // A request sent starts it again; it times out as before if no answer comes.
      const late = new Promise((resolve, reject) => {
        const entry = { correlationId: 1, apiKey: 0, apiName: 'Produce', apiVersion: 7, resolve, reject };
        queue.push({ entry, expectResponse: true, sendRequest: () => undefined });
      });
      expect(queue.requestTimeoutIntervalId).not.toBeNull();
      jest.advanceTimersByTime(30_200);
      await expect(late).rejects.toThrow(/timed out/);
      expect(queue.inflight.size).toBe(0);

      // One answered in time stops it after the next tick.
      const answered = new Promise((resolve, reject) => {
        const entry = { correlationId: 2, apiKey: 0, apiName: 'Produce', apiVersion: 7, resolve, reject };
        queue.push({ entry, expectResponse: true, sendRequest: () => undefined });
      });
      queue.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
      await expect(answered).resolves.toMatchObject({ correlationId: 2 });
      jest.advanceTimersByTime(100);
      expect(queue.requestTimeoutIntervalId).toBeNull();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      queue.destroy();
    }
  });

  it('a read_committed consumer skips overlapping aborted transactions, whatever order the broker lists them in', () => {
    type Record = { offset: string; key: Buffer; batchContext: { producerId: string; inTransaction: boolean } };
    const filter = require('kafkajs/src/consumer/filterAbortedMessages.js') as (o: {
      messages: Record[];
      abortedTransactions: { firstOffset: string; producerId: string }[];
    }) => Record[];
    const abortMarker = Buffer.from([0, 0, 0, 0]);
    const record = (offset: number, producerId: number, key = Buffer.from('alert')): Record => ({
      offset: String(offset),
      key,
      batchContext: { producerId: String(producerId), inTransaction: true },
    });
    // Producer 1's transaction (3, 5, 7) and producer 2's (4) overlap; both abort, 2 first (marker
    // at 6), then 1 (marker at 8). The broker lists aborted transactions in the order they ended.
    const messages = [
      record(3, 1),
      record(4, 2),
      record(5, 1),
      record(6, 2, abortMarker),
      record(7, 1),
      record(8, 1, abortMarker),
      record(9, 3),
    ];
    const data = (kept: Record[]): string[] => kept.filter((m) => !m.key.equals(abortMarker)).map((m) => m.offset);
    const listedAsEnded = [
      { firstOffset: '4', producerId: '2' },
      { firstOffset: '3', producerId: '1' },
    ];
    expect(data(filter({ messages, abortedTransactions: listedAsEnded }))).toEqual(['9']);
    // A fetch that starts inside both transactions.
    expect(data(filter({ messages: messages.slice(2), abortedTransactions: listedAsEnded }))).toEqual(['9']);
  });

  it('a transactional send waits for every in-flight request before it retries', () => {
    const source = require('node:fs').readFileSync(require.resolve('kafkajs/src/producer/sendMessages.js'), 'utf8') as string;
    expect(source).toContain('await Promise.allSettled(requests)');
    expect(source).not.toContain('await Promise.all(requests)');
  });

  it('a retry after a leader change sends the moved partition to its new leader, even one that already answered', async () => {
    // Partition 0 is led by broker 1, partition 1 by broker 2. Broker 2 (hung, then awake) answers
    // NOT_LEADER; the refreshed metadata moves partition 1 to broker 1, which had already answered
    // for partition 0. Unpatched, the retry skipped broker 1 and the send resolved without partition 1.
    const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (o: object) => (r: object) => Promise<ProduceResult[]>;
    const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };
    const leaders = new Map([
      [0, 1],
      [1, 2],
    ]);
    const received: { broker: number; partitions: number[] }[] = [];
    const brokerFor = (nodeId: number): FakeBroker => ({
      nodeId,
      produce: async ({ topicData }: { topicData: { topic: string; partitions: { partition: number }[] }[] }) => {
        const partitions = topicData.flatMap((t) => t.partitions.map((p) => Number(p.partition)));
        received.push({ broker: nodeId, partitions });
        if (nodeId === 2) throw createErrorFromCode(6);
        return {
          topics: topicData.map((t) => ({
            topicName: t.topic,
            partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0 })),
          })),
        };
      },
    });
    const brokers = new Map([1, 2].map((id) => [id, brokerFor(id)]));
    const metadata = (): { partitionId: number; leader: number }[] =>
      [...leaders].map(([partitionId, leader]) => ({ partitionId, leader }));
    const cluster = {
      refreshMetadataIfNecessary: async () => undefined,
      refreshMetadata: async () => void leaders.set(1, 1),
      addMultipleTargetTopics: async () => undefined,
      isConnected: () => true,
      findTopicPartitionMetadata: () => metadata(),
      findLeaderForPartitions: (_topic: string, partitions: string[]) => {
        const out: Record<number, number[]> = {};
        for (const p of partitions.map(Number)) (out[leaders.get(p)!] ??= []).push(p);
        return out;
      },
      findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId))!,
    };
    const eosManager = {
      isTransactional: () => false,
      acquireBrokerLock: async () => undefined,
      releaseBrokerLock: async () => undefined,
      getSequence: () => 0,
      updateSequence: () => undefined,
      markSequencesUncertain: () => undefined,
      getProducerId: () => -1,
      getProducerEpoch: () => 0,
    };
    // Up to three attempts, retrying whatever the send throws (KafkaJS's retrier does the same for retriable errors).
    const retrier = async <T>(attempt: (bail: (e: Error) => never, n: number, t: number) => Promise<T>): Promise<T> => {
      for (let n = 0; ; n++) {
        try {
          return await attempt(
            (e) => {
              throw e;
            },
            n,
            0,
          );
        } catch (err) {
          if (n >= 2) throw err;
        }
      }
    };
    const send = createSendMessages({
      logger: quietLogger,
      cluster,
      eosManager,
      retrier,
      partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    });
    const result = await send({
      acks: -1,
      timeout: 1000,
      topicMessages: [{ topic: 'feed', messages: [0, 1].map((partition) => ({ partition, value: `record for ${partition}` })) }],
    });
    expect(result.map((r) => Number(r.partition)).sort()).toEqual([0, 1]);
    // The retry went to broker 1 with partition 1 only: partition 0 was acknowledged and is not sent twice.
    expect(received.at(-1)).toEqual({ broker: 1, partitions: [1] });
  });
});

interface ProduceResult {
  topicName: string;
  partition: number;
}

interface FakeBroker {
  nodeId: number;
  produce(request: { topicData: { topic: string; partitions: { partition: number }[] }[] }): Promise<unknown>;
}
