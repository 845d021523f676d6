#!/usr/bin/env node
// Runs after `npm install` / `npm ci` (package.json "postinstall"). Fixes two KafkaJS 2.2.4 bugs;
// idempotent, and each patch is a no-op once upstream has the fix (a changed file is reported,
// never patched blindly).
//
// 1. Exactly-once on a cluster. producer/sendMessages.js sends one produce request per partition
//    leader and awaits them with Promise.all. When one of them fails (e.g. AddPartitionsToTxn
//    answered CONCURRENT_TRANSACTIONS, which a coordinator does when several leaders register
//    partitions of one transaction at once), Promise.all rejects at once and the retry starts while
//    the other brokers' requests are still in flight; those have no response recorded yet, so the
//    retry sends their records again with new sequence numbers, and the transaction commits both
//    copies. Waiting for every request to settle before retrying (Promise.allSettled) makes the
//    retry resend only what really failed. Found by the fault tier (test/faults): duplicated
//    SUBMITTED/DECIDED events on a 3-broker cluster.
// 2. Idle CPU. network/requestQueue/index.js re-arms its pending-request check after every check,
//    even with nothing pending; unthrottled, the delay it computes is negative, so every broker
//    connection of every client runs a 1 ms timer loop for as long as it is open (upstream issues
//    #1556, #1704). Found by profiling the idle `npm start` stack (docs/performance.md): most of the
//    subscriber host's idle CPU was this loop. With nothing pending there is nothing to check: a
//    request that cannot be sent at once schedules the check when it is queued (push), and a
//    completed request checks the queue itself.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kafkajs = join(root, 'node_modules', 'kafkajs', 'src');

const PATCHES = [
  {
    file: join(kafkajs, 'producer', 'sendMessages.js'),
    buggy: '        await Promise.all(requests)\n',
    fixed:
      '        // backbone: settle every request before a retry (scripts/patch-kafkajs.js)\n' +
      '        const settled = await Promise.allSettled(requests)\n' +
      "        const failed = settled.find(r => r.status === 'rejected')\n" +
      '        if (failed) throw failed.reason\n',
    done: 'producer retries wait for in-flight requests (exactly-once on clusters)',
  },
  {
    file: join(kafkajs, 'network', 'requestQueue', 'index.js'),
    buggy: '  scheduleCheckPendingRequests() {\n',
    fixed:
      '  scheduleCheckPendingRequests() {\n' +
      '    // backbone: nothing pending, nothing to check; no 1 ms timer loop (scripts/patch-kafkajs.js)\n' +
      '    if (this.pending.length === 0) return\n',
    done: 'request queues no longer spin a timer while idle',
  },
];

for (const { file, buggy, fixed, done } of PATCHES) {
  if (!existsSync(file)) continue;
  const source = readFileSync(file, 'utf8');
  if (source.includes(fixed)) continue;
  if (!source.includes(buggy)) {
    process.stderr.write(`patch-kafkajs: ${file} changed upstream; review scripts/patch-kafkajs.js\n`);
    continue;
  }
  writeFileSync(file, source.replace(buggy, fixed));
  process.stdout.write(`patch-kafkajs: ${done}\n`);
}
