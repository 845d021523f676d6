import { describe, expect, it, jest } from '@jest/globals';
import { runKafkaFuzz } from './kafka.fuzz.js';

// The bounded pass `npm test` runs; `npm run fuzz` runs the same with M >= 2,000 records.
jest.setTimeout(1_800_000);

describe('kafka fuzz (bounded pass, real broker and PostgreSQL)', () => {
  it('keeps every service consuming, parks every bad record, processes every valid one exactly once', async () => {
    const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
    // FUZZ_KAFKA_RECORDS raises the count for a one-off long run; `npm test` keeps the bounded default.
    const records = Number(process.env['FUZZ_KAFKA_RECORDS'] ?? 150);
    const lines: string[] = [];
    const result = await runKafkaFuzz({ seed, records, log: (l) => lines.push(l) });
    // The seed is in the failure message, so a failing case can be replayed with FUZZ_SEED.
    expect({ seed, ...result, log: result.lost + result.stuck + result.duplicated > 0 ? lines : [] }).toEqual({
      seed,
      records,
      stuck: 0,
      lost: 0,
      duplicated: 0,
      log: [],
    });
  });
});
