import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, jest } from '@jest/globals';

// scripts/patch-kafkajs.js fixes four KafkaJS 2.2.4 bugs at install; these checks fail if an
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
});
