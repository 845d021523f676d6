import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@backbone/bootstrap';
import type { DeadLetter, DeadLetterReason } from '@backbone/codec';
import { deadLetterFor, type FailedRecord } from './dead-letter.builder.js';
import { ConsumerStoppingError, RecordGuard } from './record.guard.js';
import type { RecordParker } from './record.parker.js';

const record: FailedRecord = { topic: 't', partition: 0, offset: '7', key: null, value: Buffer.from('x') };

class MemoryParker implements RecordParker {
  readonly parked: DeadLetter[] = [];
  failures = 0;
  async park(r: FailedRecord, reason: DeadLetterReason, detail: string): Promise<DeadLetter> {
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('broker down'), { name: 'KafkaJSConnectionError' });
    }
    const letter = deadLetterFor('svc', r, reason, detail);
    this.parked.push(letter);
    return letter;
  }
}

function guardWith(parker: RecordParker, maxAttempts = 3): RecordGuard {
  return new RecordGuard({
    parker,
    logger: createLogger('record-guard-spec', 'silent'),
    maxAttempts,
    initialBackoffMs: 1,
    maxBackoffMs: 2,
  });
}

const sqlError = (code: string): Error => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('RecordGuard', () => {
  it('retries a transient failure until it succeeds and parks nothing', async () => {
    const parker = new MemoryParker();
    let calls = 0;
    const out = await guardWith(parker).process(record, async () => {
      if (++calls < 6) throw sqlError('57P01');
    });
    expect(out).toEqual({ processed: true });
    expect(calls).toBe(6);
    expect(parker.parked).toHaveLength(0);
  });

  it('parks a permanent failure after exactly maxAttempts, with the reason and the original bytes', async () => {
    const parker = new MemoryParker();
    let calls = 0;
    const out = await guardWith(parker, 4).process(record, async () => {
      calls++;
      throw sqlError('22021');
    });
    expect(calls).toBe(4);
    expect(out.processed).toBe(false);
    expect(parker.parked).toHaveLength(1);
    expect(parker.parked[0]).toMatchObject({ reason: 'UNSTORABLE', sourceTopic: 't', sourceOffset: 7, value: Buffer.from('x') });
  });

  it('retries parking while the broker is down, then parks once', async () => {
    const parker = new MemoryParker();
    parker.failures = 3;
    const out = await guardWith(parker, 1).process(record, async () => {
      throw sqlError('22P05');
    });
    expect(out.processed).toBe(false);
    expect(parker.parked).toHaveLength(1);
  });

  it('gives up a transient retry when the consumer stops, leaving the record uncommitted', async () => {
    const guard = guardWith(new MemoryParker());
    let running = true;
    const pending = guard.process(
      record,
      async () => {
        running = false;
        throw sqlError('08006');
      },
      { isRunning: () => running },
    );
    await expect(pending).rejects.toBeInstanceOf(ConsumerStoppingError);
  });

  it('refuses a maxAttempts below 1', () => {
    expect(() => guardWith(new MemoryParker(), 0)).toThrow(/maxAttempts/);
  });
});
