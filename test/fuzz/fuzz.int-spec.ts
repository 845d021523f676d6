// The HTTP fuzz pass of `npm test` (bounded) and the whole of `npm run fuzz` (FUZZ_FULL=1, >= 10,000
// HTTP inputs and >= 2,000 Kafka records), seeded: FUZZ_SEED repeats a run. HTTP: no 5xx, every refusal
// problem+json with a reason. Kafka (test/fuzz/kafka.fuzz.ts): nothing stuck, lost or duplicated.
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { runHttpFuzz, type HttpFuzzResult } from './http.fuzz.js';

const FULL = process.env['FUZZ_FULL'] === '1';
const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : Math.floor(Math.random() * 2 ** 31);
const HTTP_INPUTS = Number(process.env['FUZZ_HTTP_INPUTS'] ?? (FULL ? 10_000 : 1_200));
const KAFKA_RECORDS = Number(process.env['FUZZ_KAFKA_RECORDS'] ?? (FULL ? 2_000 : 300));

interface KafkaFuzzResult {
  records: number;
  stuck: number;
  lost: number;
  duplicated: number;
}
type RunKafkaFuzz = (opts: { seed: number; records: number; log: (l: string) => void }) => Promise<KafkaFuzzResult>;

/** The Kafka fuzz lives in its own file (written alongside the consumers' dead-letter work); absent, it is reported as such. */
async function kafkaFuzz(): Promise<RunKafkaFuzz | null> {
  const specifier = './kafka.fuzz.js';
  try {
    const mod = (await import(specifier)) as { runKafkaFuzz?: RunKafkaFuzz };
    return mod.runKafkaFuzz ?? null;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module|Could not locate module/.test(String(err)))
      return null;
    throw err;
  }
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

jest.setTimeout(FULL ? 3_600_000 : 600_000);

describe(`fuzz (seed ${SEED}${FULL ? ', full' : ', bounded'})`, () => {
  let http: HttpFuzzResult | undefined;
  let kafka: KafkaFuzzResult | null = null;

  afterAll(() => {
    const file = process.env['FUZZ_RESULT_FILE'];
    if (file) writeFileSync(file, JSON.stringify({ seed: SEED, http: http ?? null, kafka }));
  });

  it('answers every generated and mutated HTTP input of every route without a 5xx, every refusal problem+json with a reason', async () => {
    http = await runHttpFuzz({ seed: SEED, inputs: HTTP_INPUTS, log });
    for (const f of http.failures) log(`fuzz: ${f}`);
    expect(http.inputs).toBe(HTTP_INPUTS);
    expect(http.failures).toEqual([]);
    expect(http.serverErrors).toBe(0);
    expect(http.unreasoned).toBe(0);
  });

  // In `npm test` the bounded Kafka pass is test/fuzz/kafka-fuzz.int-spec.ts (beside kafka.fuzz.ts);
  // `npm run fuzz` (FUZZ_FULL=1) runs the full one here, so the summary line has both halves.
  const kafkaIt = FULL ? it : it.skip;
  kafkaIt('keeps every consumer going through random, mutated and unstorable records (Kafka fuzz)', async () => {
    const run = await kafkaFuzz();
    if (run === null) {
      log('fuzz: test/fuzz/kafka.fuzz.ts is not on this branch; the Kafka fuzz did not run');
      return;
    }
    kafka = await run({ seed: SEED, records: KAFKA_RECORDS, log });
    expect(kafka.records).toBeGreaterThanOrEqual(KAFKA_RECORDS);
    expect(kafka).toMatchObject({ stuck: 0, lost: 0, duplicated: 0 });
  });
});
