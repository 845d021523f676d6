#!/usr/bin/env node
// `npm run fuzz`: the standalone fuzz pass (HTTP >= 10,000 inputs, Kafka >= 2,000 records) against
// the real broker and PostgreSQL, seeded (FUZZ_SEED=<n> repeats a run). Runs test/fuzz/fuzz.int-spec.ts
// through jest (its global setup brings up the broker and database) and ends with exactly one line:
//   fuzz: <N> http inputs, <n> 5xx; <M> kafka records, <s> stuck partitions, <l> lost, <d> duplicated
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installIfNeeded, root } from './prepare.js';

if (!installIfNeeded()) process.exit(1);
const dir = join(root, '.backbone', 'test-results');
mkdirSync(dir, { recursive: true });
const resultFile = join(dir, `fuzz-${process.pid}.json`);
rmSync(resultFile, { force: true });
const seed = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
const jest = spawnSync(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    'test/fuzz/fuzz.int-spec.ts',
    '--selectProjects',
    'int',
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FUZZ_FULL: '1', FUZZ_SEED: seed, FUZZ_RESULT_FILE: resultFile } },
);
let result = null;
if (existsSync(resultFile)) {
  result = JSON.parse(readFileSync(resultFile, 'utf8'));
  rmSync(resultFile, { force: true });
}
const http = result?.http ?? { inputs: 0, serverErrors: 0 };
const kafka = result?.kafka ?? { records: 0, stuck: 0, lost: 0, duplicated: 0 };
if (!result?.kafka) process.stderr.write('fuzz: the Kafka fuzz did not run (see above)\n');
process.stderr.write(`fuzz: seed ${seed} (FUZZ_SEED=${seed} repeats this run)\n`);
process.stdout.write(
  `fuzz: ${http.inputs} http inputs, ${http.serverErrors} 5xx; ${kafka.records} kafka records, ${kafka.stuck} stuck partitions, ${kafka.lost} lost, ${kafka.duplicated} duplicated\n`,
);
process.exit(jest.status === 0 && result?.kafka ? 0 : 1);
