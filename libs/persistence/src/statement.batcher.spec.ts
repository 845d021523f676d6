import { describe, expect, it } from '@jest/globals';
import { StatementBatcher } from './statement.batcher.js';

/** A batch function the test releases by hand (oldest batch first), recording the batches it was given. */
function gatedRun(): { batches: number[][]; release(): void; run: (inputs: readonly number[]) => Promise<number[]> } {
  const batches: number[][] = [];
  const waiting: (() => void)[] = [];
  return {
    batches,
    release: () => waiting.shift()?.(),
    run: async (inputs) => {
      batches.push([...inputs]);
      await new Promise<void>((r) => waiting.push(r));
      return inputs.map((n) => n * 10);
    },
  };
}

async function until(done: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

describe('StatementBatcher', () => {
  it('sends the calls of one event-loop turn as one batch, each caller getting its own answer', async () => {
    const g = gatedRun();
    const b = new StatementBatcher(g.run);
    const all = [b.call(1), b.call(2), b.call(3)];
    await until(() => g.batches.length === 1);
    g.release();
    expect(await Promise.all(all)).toEqual([10, 20, 30]);
    expect(g.batches).toEqual([[1, 2, 3]]);
  });

  it('runs up to `concurrency` batches at once; what arrives while all run goes together in the next', async () => {
    const g = gatedRun();
    const b = new StatementBatcher(g.run, { concurrency: 2 });
    const first = b.call(1);
    await until(() => g.batches.length === 1);
    const second = b.call(2);
    await until(() => g.batches.length === 2);
    const rest = [b.call(3), b.call(4)];
    // A batch would start within one event-loop turn: two turns later, both slots are still busy and 3 and 4 wait.
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    expect(g.batches).toEqual([[1], [2]]);
    g.release();
    expect(await first).toBe(10);
    await until(() => g.batches.length === 3);
    expect(g.batches[2]).toEqual([3, 4]);
    g.release();
    g.release();
    expect(await second).toBe(20);
    expect(await Promise.all(rest)).toEqual([30, 40]);
  });

  it('caps a batch at maxBatch', async () => {
    const g = gatedRun();
    const b = new StatementBatcher(g.run, { maxBatch: 2, concurrency: 1 });
    const all = [b.call(1), b.call(2), b.call(3), b.call(4), b.call(5)];
    for (let i = 0; i < 3; i++) {
      await until(() => g.batches.length === i + 1);
      g.release();
    }
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
    expect(g.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects every caller of a failed batch, and the next batch still runs', async () => {
    let calls = 0;
    const b = new StatementBatcher<number, number>(async (inputs) => {
      calls++;
      if (inputs.includes(2)) throw new Error('boom');
      return inputs.map((n) => n);
    });
    const failing = [b.call(2), b.call(3)];
    await expect(failing[0]).rejects.toThrow('boom');
    await expect(failing[1]).rejects.toThrow('boom');
    expect(await b.call(4)).toBe(4);
    expect(calls).toBe(2);
  });

  it('refuses a batch function that answers the wrong number of outputs, and bad options', async () => {
    const b = new StatementBatcher<number, number>(async () => []);
    await expect(b.call(1)).rejects.toThrow(/a batch of 1 got 0 answers/);
    expect(() => new StatementBatcher<number, number>(async () => [], { maxBatch: 0 })).toThrow(/maxBatch must be a positive integer/);
    expect(() => new StatementBatcher<number, number>(async () => [], { concurrency: 1.5 })).toThrow(
      /concurrency must be a positive integer/,
    );
  });
});
