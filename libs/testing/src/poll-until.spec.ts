import { describe, expect, it } from '@jest/globals';
import { pollUntil } from './poll-until.js';
import { uniqueName } from './names.js';

describe('pollUntil', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(pollUntil(() => (++n >= 3 ? n : undefined), { description: 'three calls', intervalMs: 1 })).resolves.toBe(3);
  });

  it('treats a throw as not yet', async () => {
    let n = 0;
    const value = await pollUntil(
      () => {
        n += 1;
        if (n < 2) throw new Error('not ready');
        return 'ok';
      },
      { description: 'recovery', intervalMs: 1 },
    );
    expect(value).toBe('ok');
  });

  it('fails on the deadline naming what it waited for and the last error', async () => {
    await expect(
      pollUntil(
        () => {
          throw new Error('still broken');
        },
        { description: 'the impossible', timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow(/timed out after 30 ms waiting for the impossible \(last error: still broken\)/);
  });
});

describe('uniqueName', () => {
  it('is unique and safe as a Kafka topic name', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('my topic/x')));
    expect(names.size).toBe(200);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9._-]{1,249}$/);
  });
});
