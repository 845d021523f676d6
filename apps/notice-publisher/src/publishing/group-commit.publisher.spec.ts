import { describe, expect, it } from '@jest/globals';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@backbone/bootstrap';
import { CommitOutcomeUnknownError, GroupCommitPublisher, PublishUnavailableError, type OutboundRecord } from './group-commit.publisher.js';

/** Resolves once `done()` holds; fails after `timeoutMs` (instead of sleeping and hoping). */
async function until(done: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A transactional producer whose connect and sends wait until the test lets them go. */
class FakeKafka {
  readonly calls: string[] = [];
  readonly transactionalIds: string[] = [];
  producers = 0;
  connectGate: Promise<void> = Promise.resolve();
  sendGate: Promise<void> = Promise.resolve();
  commitGate: Promise<void> = Promise.resolve();

  producer(opts: { transactionalId: string }): unknown {
    const n = ++this.producers;
    this.transactionalIds.push(opts.transactionalId);
    const log = (what: string): void => void this.calls.push(`p${n}:${what}`);
    return {
      connect: async () => {
        await this.connectGate;
        log('connect');
      },
      disconnect: async () => log('disconnect'),
      transaction: async () => {
        log('begin');
        return {
          sendBatch: async () => {
            log('send');
            await this.sendGate;
            return [{ topicName: 't', partition: 0, baseOffset: '7' }];
          },
          commit: async () => {
            log('commit');
            await this.commitGate;
          },
          abort: async () => log('abort'),
        };
      },
    };
  }
}

const record: OutboundRecord = { topic: 't', partition: 0, key: 'k', value: Buffer.from('v') };

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function publisherOn(kafka: FakeKafka, publishTimeoutMs = 100, lanes = 1): GroupCommitPublisher {
  return new GroupCommitPublisher(kafka as unknown as Kafka, {
    transactionalId: 'notice-publisher-test',
    lanes,
    flushIntervalMs: 0,
    maxBatchRecords: 10,
    publishTimeoutMs,
    logger: createLogger('group-commit-test', 'silent'),
  });
}

describe('GroupCommitPublisher publish deadline', () => {
  it('a commit that was sent and then failed is not reported as "nothing published" (the broker may have committed it)', async () => {
    const kafka = new FakeKafka();
    kafka.commitGate = Promise.reject(new Error('EndTxn: CONCURRENT_TRANSACTIONS after a timed-out first EndTxn'));
    kafka.commitGate.catch(() => undefined);
    const publisher = publisherOn(kafka, 1000);
    const failure = await publisher.publish([record]).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CommitOutcomeUnknownError);
    expect(failure).not.toBeInstanceOf(PublishUnavailableError);
    await publisher.close();
  });

  it('register() holds the transactional id before anything is sent: an earlier incarnation is fenced at once', async () => {
    const kafka = new FakeKafka();
    const publisher = publisherOn(kafka);
    await publisher.register();
    expect(kafka.calls).toEqual(['p1:connect', 'p1:begin', 'p1:abort']);
    await publisher.publish([record]);
    await publisher.close();
    expect(kafka.producers).toBe(1);
  });

  it('rejects at the deadline while the send hangs, never commits that transaction, and fences it with a fresh producer', async () => {
    const kafka = new FakeKafka();
    const send = gate();
    kafka.sendGate = send.promise;
    const publisher = publisherOn(kafka);
    const started = performance.now();
    await expect(publisher.publish([record])).rejects.toBeInstanceOf(PublishUnavailableError);
    expect(performance.now() - started).toBeLessThan(100 + 500);

    send.open(); // the broker answers after all: too late to commit
    kafka.sendGate = Promise.resolve();
    await expect(publisher.publish([record])).resolves.toEqual([{ topic: 't', partition: 0, offset: '7' }]);
    await publisher.close();
    // Each producer registers its transactional id first (an empty transaction, aborted).
    expect(kafka.calls.filter((c) => c.startsWith('p1:'))).toEqual([
      'p1:connect',
      'p1:begin',
      'p1:abort',
      'p1:begin',
      'p1:send',
      'p1:abort',
      'p1:disconnect',
    ]);
    expect(kafka.calls.filter((c) => c.startsWith('p2:'))).toEqual([
      'p2:connect',
      'p2:begin',
      'p2:abort',
      'p2:begin',
      'p2:send',
      'p2:commit',
      'p2:disconnect',
    ]);
  });

  it('rejects at the deadline while connecting, and the next request shares that connect (no second producer to fence it)', async () => {
    const kafka = new FakeKafka();
    const connect = gate();
    kafka.connectGate = connect.promise;
    const publisher = publisherOn(kafka);
    await expect(publisher.publish([record])).rejects.toBeInstanceOf(PublishUnavailableError);
    const retry = publisher.publish([record]);
    connect.open();
    await expect(retry).resolves.toHaveLength(1);
    await publisher.close();
    expect(kafka.producers).toBe(1);
    expect(kafka.calls.filter((c) => c === 'p1:commit')).toHaveLength(1);
    expect(kafka.calls.filter((c) => c === 'p1:send')).toHaveLength(1);
  });

  it("waits for a commit already sent (its outcome is the broker's), and rejects a request queued behind it at its own deadline", async () => {
    const kafka = new FakeKafka();
    const commit = gate();
    kafka.commitGate = commit.promise;
    const publisher = publisherOn(kafka, 200);
    const first = publisher.publish([record]);
    // The first commit is in flight once the fake recorded it.
    await until(() => kafka.calls.includes('p1:commit'));
    const started = performance.now();
    const second = publisher.publish([record]);
    await expect(second).rejects.toBeInstanceOf(PublishUnavailableError);
    expect(performance.now() - started).toBeLessThan(200 + 500);
    commit.open();
    await expect(first).resolves.toHaveLength(1);
    await publisher.close();
    // One transaction only: the queued request was never sent.
    expect(kafka.calls.filter((c) => c.endsWith(':send'))).toHaveLength(1);
  });
});

describe('GroupCommitPublisher lanes', () => {
  it('register() holds every lane\'s transactional id (lane 0 the configured one, lane n "<id>.<n>")', async () => {
    const kafka = new FakeKafka();
    const publisher = publisherOn(kafka, 1000, 3);
    await publisher.register();
    expect(kafka.transactionalIds).toEqual(['notice-publisher-test', 'notice-publisher-test.1', 'notice-publisher-test.2']);
    expect(publisher.transactionalId).toBe('notice-publisher-test');
    await publisher.close();
  });

  it("while one lane's transaction is in flight, the next request commits on another lane without waiting for it", async () => {
    const kafka = new FakeKafka();
    const publisher = publisherOn(kafka, 5000, 2);
    await publisher.register();
    const held = gate();
    kafka.sendGate = held.promise;
    const first = publisher.publish([record]);
    await until(() => kafka.calls.includes('p1:send'));
    kafka.sendGate = Promise.resolve();
    await expect(publisher.publish([record])).resolves.toEqual([{ topic: 't', partition: 0, offset: '7' }]);
    expect(kafka.calls).toContain('p2:commit');
    expect(kafka.calls).not.toContain('p1:commit');
    held.open();
    await first;
    expect(kafka.calls).toContain('p1:commit');
    await publisher.close();
  });

  it('at low load every request goes to the first lane', async () => {
    const kafka = new FakeKafka();
    const publisher = publisherOn(kafka, 5000, 2);
    for (let i = 0; i < 3; i++) await publisher.publish([record]);
    expect(kafka.calls.filter((c) => c.endsWith(':commit'))).toEqual(['p1:commit', 'p1:commit', 'p1:commit']);
    await publisher.close();
  });
});
