#!/usr/bin/env node
// `npm test`: installs what is missing, builds, lints, type-checks, then runs every test tier
// (unit, integration, e2e) and closes with one "tests: N passed, N failed" line.
// `npm test -- unit int` runs only the named tiers (checks are skipped with --no-checks).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const tiers = args.filter((a) => ['unit', 'int', 'e2e'].includes(a));
const selected = tiers.length > 0 ? tiers : ['unit', 'int', 'e2e'];
const runChecks = !args.includes('--no-checks');

function run(label, cmd, cmdArgs, opts = {}) {
  const started = Date.now();
  process.stdout.write(`\n▶ ${label}\n`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env: { ...process.env, ...opts.env } });
  process.stdout.write(`◀ ${label}: ${r.status === 0 ? 'ok' : `failed (exit ${r.status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return r.status === 0;
}

function installIfNeeded() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs)) return true;
  return run('install npm packages', 'npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

if (!installIfNeeded()) process.exit(1);

let ok = true;
if (runChecks) {
  ok = run('build', 'npm', ['run', '--silent', 'build']) && ok;
  ok = run('type-check', 'npm', ['run', '--silent', 'typecheck']) && ok;
  ok = run('lint (zero warnings)', 'npm', ['run', '--silent', 'lint']) && ok;
}

const resultsDir = join(root, '.backbone', 'test-results');
mkdirSync(resultsDir, { recursive: true });
let passed = 0;
let failed = 0;
for (const tier of selected) {
  const out = join(resultsDir, `${tier}.json`);
  const tierOk = run(`${tier} tests`, process.execPath, [
    '--experimental-vm-modules',
    '--no-warnings=ExperimentalWarning',
    join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    '--selectProjects',
    tier,
    '--ci',
    '--json',
    `--outputFile=${out}`,
    ...(tier === 'unit' ? [] : ['--maxWorkers=2']),
  ]);
  ok = tierOk && ok;
  if (existsSync(out)) {
    const report = JSON.parse(readFileSync(out, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  } else {
    failed += 1;
  }
}
if (!ok && failed === 0) failed = 1;
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
process.exit(ok ? 0 : 1);
