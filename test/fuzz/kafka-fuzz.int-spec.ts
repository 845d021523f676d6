import { describe, expect, it, jest } from '@jest/globals';
import { runKafkaFuzz } from './kafka.fuzz.js';

// The bounded pass `npm test` runs; `npm run fuzz` runs the same with M >= 2,000 records.
jest.setTimeout(300_000);

describe('kafka fuzz (bounded pass, real broker and PostgreSQL)', () => {
  it('keeps every service consuming, parks every bad record, processes every valid one exactly once', async () => {
    const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
    const lines: string[] = [];
    const result = await runKafkaFuzz({ seed, records: 150, log: (l) => lines.push(l) });
    // The seed is in the failure message, so a failing case can be replayed with FUZZ_SEED.
    expect({ seed, ...result, log: result.lost + result.stuck + result.duplicated > 0 ? lines : [] }).toEqual({
      seed,
      records: 150,
      stuck: 0,
      lost: 0,
      duplicated: 0,
      log: [],
    });
  });
});
