import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { heartbeatWhile } from './heartbeat-while.js';

describe('heartbeatWhile', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('heartbeats every interval while the work runs, and never after it ended', async () => {
    let beats = 0;
    let finish: (value: string) => void = () => undefined;
    const running = heartbeatWhile(new Promise<string>((resolve) => (finish = resolve)), async () => void beats++, 1_000);
    await jest.advanceTimersByTimeAsync(3_500);
    expect(beats).toBe(3);
    finish('done');
    await expect(running).resolves.toBe('done');
    await jest.advanceTimersByTimeAsync(5_000);
    expect(beats).toBe(3);
  });

  it('keeps heartbeating when a heartbeat fails, and passes the work failure on', async () => {
    let beats = 0;
    let fail: (err: Error) => void = () => undefined;
    const running = heartbeatWhile(
      new Promise<never>((_resolve, reject) => (fail = reject)),
      async () => {
        beats++;
        throw new Error('The group is rebalancing');
      },
      1_000,
    );
    const outcome = expect(running).rejects.toThrow('transaction failed');
    await jest.advanceTimersByTimeAsync(2_500);
    expect(beats).toBe(2);
    fail(new Error('transaction failed'));
    await outcome;
  });
});
