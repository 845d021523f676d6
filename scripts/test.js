#!/usr/bin/env node
// `npm test`: installs what is missing, builds, lints, type-checks, checks formatting, then runs the unit,
// integration, e2e and fault tiers and closes with one "tests: N passed, N failed" line, the fault tier's
// scenario lines (`faults: <scenario>: N accepted, l lost, d duplicated, ledger verified; ...`) before it.
// The fault tier (its own 3-broker cluster, services as OS processes; 7-12 minutes on 2 cores, docs/faults.md)
// runs last, after the tiers that share the development broker are done with the machine.
// `npm test -- unit int` runs only the named tiers (checks are skipped with --no-checks).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureAncestorsTraversable, ensureChromium, ensureIptables, installIfNeeded, root, run } from './prepare.js';

const args = process.argv.slice(2);
const tiers = args.filter((a) => ['unit', 'int', 'e2e', 'faults'].includes(a));
const selected = tiers.length > 0 ? tiers : ['unit', 'int', 'e2e', 'faults'];
const runChecks = !args.includes('--no-checks');

if (!installIfNeeded()) process.exit(1);
ensureAncestorsTraversable();

const failedChecks = [];
// The e2e tier's console tests need a browser; a missing one fails the check, not silently the tests.
if (selected.includes('e2e') && !ensureChromium()) failedChecks.push('chromium');
if (selected.includes('faults') && !ensureIptables()) failedChecks.push('iptables');
if (runChecks) {
  for (const [label, script] of [
    ['build', 'build'],
    ['type-check', 'typecheck'],
    ['lint (zero warnings)', 'lint'],
    ['format (prettier --check)', 'format:check'],
  ]) {
    if (!run(label, 'npm', ['run', '--silent', script])) failedChecks.push(label);
  }
}
let ok = failedChecks.length === 0;

const resultsDir = join(root, '.backbone', 'test-results');
mkdirSync(resultsDir, { recursive: true });
let passed = 0;
let failed = 0;
rmSync(join(resultsDir, 'faults-lines.txt'), { force: true });
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
    // The fault tier kills brokers of its own cluster: one scenario file at a time.
    ...(tier === 'unit' ? [] : tier === 'faults' ? ['--runInBand'] : ['--maxWorkers=2']),
  ]);
  ok = tierOk && ok;
  // A tier that failed without a failing test (global setup, a suite that would not load) still counts once.
  const report = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : null;
  const tierFailures = report ? report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0) : 0;
  passed += report?.numPassedTests ?? 0;
  failed += tierOk || tierFailures > 0 ? tierFailures : 1;
}
if (failedChecks.length > 0) process.stdout.write(`\nchecks failed: ${failedChecks.join(', ')}\n`);
// The fault tier's one line per scenario (`faults: <scenario>: N accepted, l lost, d duplicated, ledger verified; ...`).
const faultLinesFile = join(resultsDir, 'faults-lines.txt');
const faultLines = selected.includes('faults') && existsSync(faultLinesFile) ? readFileSync(faultLinesFile, 'utf8').trim() : '';
const summary = (faultLines ? `${faultLines}\n` : '') + `tests: ${passed} passed, ${failed} failed`;
writeFileSync(join(resultsDir, 'summary.txt'), summary + '\n');
process.stdout.write(`\n${summary}\n`);
process.exit(ok ? 0 : 1);
