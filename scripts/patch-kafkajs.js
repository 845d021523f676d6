#!/usr/bin/env node
// Runs after `npm install` / `npm ci` (package.json "postinstall"). Fixes one KafkaJS 2.2.4 bug
// that breaks exactly-once on a multi-broker cluster; idempotent, and a no-op once upstream has it.
//
// producer/sendMessages.js sends one produce request per partition leader and awaits them with
// Promise.all. When one of them fails (e.g. AddPartitionsToTxn answered CONCURRENT_TRANSACTIONS,
// which a coordinator does when several leaders register partitions of one transaction at once),
// Promise.all rejects at once and the retry starts while the other brokers' requests are still in
// flight; those have no response recorded yet, so the retry sends their records again with new
// sequence numbers, and the transaction commits both copies. Waiting for every request to settle
// before retrying (Promise.allSettled) makes the retry resend only what really failed.
// Found by the fault tier (test/faults): duplicated SUBMITTED/DECIDED events on a 3-broker cluster.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'node_modules', 'kafkajs', 'src', 'producer', 'sendMessages.js');
const BUGGY = '        await Promise.all(requests)\n';
const FIXED =
  '        // backbone: settle every request before a retry (scripts/patch-kafkajs.js)\n' +
  '        const settled = await Promise.allSettled(requests)\n' +
  "        const failed = settled.find(r => r.status === 'rejected')\n" +
  '        if (failed) throw failed.reason\n';

if (!existsSync(file)) process.exit(0);
const source = readFileSync(file, 'utf8');
if (source.includes(FIXED)) process.exit(0);
if (!source.includes(BUGGY)) {
  process.stderr.write(`patch-kafkajs: ${file} changed upstream; review scripts/patch-kafkajs.js\n`);
  process.exit(0);
}
writeFileSync(file, source.replace(BUGGY, FIXED));
process.stdout.write('patch-kafkajs: producer retries wait for in-flight requests (exactly-once on clusters)\n');
