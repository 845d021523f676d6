#!/usr/bin/env node
// Runs after `npm install` / `npm ci` (package.json "postinstall"). Fixes six KafkaJS 2.2.4 bugs;
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
// 3. Lost records when a partition's leader moves. producer/sendMessages.js remembers which
//    *brokers* answered; a retry recomputes the leaders and skips every broker that already
//    answered. When a partition's request failed (NOT_LEADER_OR_FOLLOWER from a broker that was
//    hung) and its new leader is a broker that had answered for other partitions, the partition's
//    records are never sent, yet the send resolves: in a transaction the consumed offsets commit
//    without them. Remembering the acknowledged *partitions* and resending every other one to its
//    current leader fixes it. Found by the fault tier (broker-sigstop): feed deliveries missing
//    while the gate's offsets had moved past their alerts.
// 4. Idle CPU, again. The same request queue checks its in-flight requests for timeouts on a
//    100 ms setInterval from the moment its connection opens until it closes, whether or not
//    anything is in flight: ten event-loop wake-ups a second per broker connection, and the idle
//    `npm start` stack holds well over a hundred of them (every agency of the subscriber host has
//    its own consumer, producers and admin clients; the gate has one producer per input partition).
//    The check now runs only while requests are in flight: the interval stops itself when nothing
//    is in flight and the next request sent starts it again. Timeouts are detected exactly as before.
// 5. Exactly-once for read_committed consumers. consumer/filterAbortedMessages.js assumes the
//    broker lists aborted transactions by first offset and registers at most one of them per
//    record. The broker lists them in the order they ended, so when two aborted transactions
//    overlap in a partition (several transactional producers writing to it at once, as the
//    gate's per-partition producers do when partitions run concurrently), records of one of them
//    were handed to the application. Kafka's own consumer keeps them in a priority queue by first
//    offset and registers every one that starts at or before the record; so does this patch.
// 6. Lost records after an aborted transaction. When a produce request fails, sendMessages.js
//    rolls back the sequence numbers of every partition in it, including partitions the broker
//    had written (a response that refuses one partition and accepts another, or a response lost
//    to a timeout or a closed connection). When the send gives up and the transaction is aborted,
//    the next transaction of the same producer sends its records at those reused numbers, and a
//    batch the broker had written in the aborted transaction with the same numbers and count is
//    taken as a duplicate of it: acknowledged, not written, and the commit makes nothing visible.
//    The gate and the publisher retry an aborted transaction with the same records on the same
//    producer, so this would lose alerts. Kafka's Java producer bumps the producer epoch after such
//    an abort (KIP-360); so does this patch: a transaction aborted after a failed produce request
//    ends with InitProducerId, which starts every sequence afresh (a commit clears the doubt: the
//    send that committed had every partition acknowledged). Found by reading the code after
//    the bench's raw producer died of OUT_OF_ORDER_SEQUENCE_NUMBER; the spec in
//    libs/kafka/src/kafkajs-abort.int-spec.ts loses the record without this patch.
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
  {
    file: join(kafkajs, 'producer', 'sendMessages.js'),
    buggy:
      '    /** @param {Map<import("../../types").Broker, any[]>} responsePerBroker */\n' +
      '    const createProducerRequests = async responsePerBroker => {\n' +
      '      const topicMetadata = new Map()\n',
    fixed:
      '    // backbone: retries resend every partition not acknowledged yet, whichever broker leads it now (scripts/patch-kafkajs.js)\n' +
      '    const acknowledged = new Set()\n' +
      '    const responses = []\n' +
      '    const createProducerRequests = async () => {\n' +
      '      const topicMetadata = new Map()\n' +
      '      const brokersToSend = new Set()\n',
    done: 'producer retries resend partitions whose leader moved (no records lost on a leader change)',
    more: [
      [
        '        const partitions = keys(messagesPerPartition)\n',
        '        const partitions = keys(messagesPerPartition).filter(p => !acknowledged.has(`${topic}:${p}`))\n',
      ],
      [
        '          if (!responsePerBroker.has(broker)) {\n' +
          '            responsePerBroker.set(broker, null)\n' +
          '          }\n' +
          '        }\n' +
          '      }\n' +
          '\n' +
          '      const brokers = Array.from(responsePerBroker.keys())\n' +
          '      const brokersWithoutResponse = brokers.filter(broker => !responsePerBroker.get(broker))\n',
        '          brokersToSend.add(broker)\n' +
          '        }\n' +
          '      }\n' +
          '\n' +
          '      const brokersWithoutResponse = Array.from(brokersToSend)\n',
      ],
      [
        '          responsePerBroker.set(broker, formattedResponse)\n' +
          '        } catch (e) {\n' +
          '          responsePerBroker.delete(broker)\n' +
          '          throw e\n' +
          '        } finally {\n',
        '          responses.push(...formattedResponse)\n' +
          '          topicData.forEach(({ topic, partitions }) => {\n' +
          '            partitions.forEach(entry => acknowledged.add(`${topic}:${entry.partition}`))\n' +
          '          })\n' +
          '        } finally {\n',
      ],
      [
        '        const requests = await createProducerRequests(responsePerBroker)\n',
        '        const requests = await createProducerRequests()\n',
      ],
      ['        return Array.from(responsePerBroker.values()).flat()\n', '        return responses\n'],
      ['    /** @type {Map<import("../../types").Broker, any[]>} */\n' + '    const responsePerBroker = new Map()\n\n', ''],
    ],
  },
  {
    file: join(kafkajs, 'network', 'requestQueue', 'index.js'),
    buggy: '      this.requestTimeoutIntervalId = setInterval(() => {\n        this.inflight.forEach(request => {\n',
    fixed:
      '      this.requestTimeoutIntervalId = setInterval(() => {\n' +
      '        // backbone: nothing in flight, nothing can time out; stop until the next send (scripts/patch-kafkajs.js)\n' +
      '        if (this.inflight.size === 0) {\n' +
      '          clearInterval(this.requestTimeoutIntervalId)\n' +
      '          this.requestTimeoutIntervalId = null\n' +
      '          return\n' +
      '        }\n' +
      '        this.inflight.forEach(request => {\n',
    done: 'request timeouts are checked only while requests are in flight',
  },
  {
    file: join(kafkajs, 'network', 'requestQueue', 'index.js'),
    buggy: '        this.inflight.set(correlationId, socketRequest)\n        pushedRequest.sendRequest()\n',
    fixed:
      '        this.inflight.set(correlationId, socketRequest)\n' +
      '        // backbone: restart the timeout check, stopped while nothing was in flight, without\n' +
      "        // cancelling a scheduled throttle check (scheduleRequestTimeoutCheck's destroy() would) (scripts/patch-kafkajs.js)\n" +
      '        if (this.enforceRequestTimeout && this.requestTimeoutIntervalId === null) {\n' +
      '          const throttleCheckTimeoutId = this.throttleCheckTimeoutId\n' +
      '          this.throttleCheckTimeoutId = null\n' +
      '          this.scheduleRequestTimeoutCheck()\n' +
      '          this.throttleCheckTimeoutId = throttleCheckTimeoutId\n' +
      '        }\n' +
      '        pushedRequest.sendRequest()\n',
    done: 'a request sent while idle restarts the timeout check',
  },
  {
    file: join(kafkajs, 'consumer', 'filterAbortedMessages.js'),
    buggy:
      '  const remainingAbortedTransactions = [...abortedTransactions]\n' +
      '\n' +
      '  return messages.filter(message => {\n' +
      '    // If the message offset is GTE the first offset of the next aborted transaction\n' +
      '    // then we have stepped into an aborted transaction.\n' +
      '    if (\n',
    fixed:
      '  // backbone: by first offset (the broker lists them as they ended), every one that has started (scripts/patch-kafkajs.js)\n' +
      '  const remainingAbortedTransactions = [...abortedTransactions].sort((a, b) =>\n' +
      '    Long.fromValue(a.firstOffset).compare(b.firstOffset)\n' +
      '  )\n' +
      '\n' +
      '  return messages.filter(message => {\n' +
      '    // If the message offset is GTE the first offset of the next aborted transaction\n' +
      '    // then we have stepped into an aborted transaction.\n' +
      '    while (\n',
    done: 'read_committed consumers skip every aborted transaction, overlapping ones too',
  },
  {
    file: join(kafkajs, 'producer', 'eosManager', 'index.js'),
    buggy: '  let producerSequence = {}\n',
    fixed:
      '  let producerSequence = {}\n' +
      '  // backbone: a produce request failed since the producer id was set: its records may be on the\n' +
      '  // broker at sequence numbers that were rolled back (scripts/patch-kafkajs.js)\n' +
      '  let sequencesUncertain = false\n',
    done: 'a transaction aborted after a failed produce request bumps the producer epoch (no record taken for a duplicate)',
    more: [
      [
        '            producerSequence = {}\n            brokerMutexLocks = {}\n',
        '            producerSequence = {}\n            sequencesUncertain = false\n            brokerMutexLocks = {}\n',
      ],
      [
        '          transactionResult: true,\n        })\n\n        stateMachine.transitionTo(STATES.READY)\n',
        '          transactionResult: true,\n' +
          '        })\n' +
          '\n' +
          '        stateMachine.transitionTo(STATES.READY)\n' +
          '        // backbone: committed, so every partition sent was acknowledged at its numbers; a later abort\n' +
          '        // need not bump the epoch (on a cluster aborts are frequent) (scripts/patch-kafkajs.js)\n' +
          '        sequencesUncertain = false\n',
      ],
      [
        '          transactionResult: false,\n        })\n\n        stateMachine.transitionTo(STATES.READY)\n',
        '          transactionResult: false,\n' +
          '        })\n' +
          '\n' +
          '        stateMachine.transitionTo(STATES.READY)\n' +
          '        // backbone: a new epoch, so the next transaction reuses no sequence number of this one (scripts/patch-kafkajs.js)\n' +
          '        if (sequencesUncertain) await eosManager.initProducerId()\n',
      ],
      [
        '      isTransactional() {\n        return transactional\n      },\n',
        '      isTransactional() {\n' +
          '        return transactional\n' +
          '      },\n' +
          '\n' +
          '      // backbone: see sequencesUncertain (scripts/patch-kafkajs.js)\n' +
          '      markSequencesUncertain() {\n' +
          '        sequencesUncertain = true\n' +
          '      },\n',
      ],
    ],
  },
  {
    file: join(kafkajs, 'producer', 'sendMessages.js'),
    buggy:
      '          } catch (e) {\n' +
      '            topicData.forEach(({ topic, partitions }) => {\n' +
      '              partitions.forEach(entry => {\n' +
      '                eosManager.updateSequence(topic, entry.partition, -entry.messages.length)\n',
    fixed:
      '          } catch (e) {\n' +
      '            // backbone: the broker may have written some of these; an abort now bumps the epoch (scripts/patch-kafkajs.js)\n' +
      '            eosManager.markSequencesUncertain()\n' +
      '            topicData.forEach(({ topic, partitions }) => {\n' +
      '              partitions.forEach(entry => {\n' +
      '                eosManager.updateSequence(topic, entry.partition, -entry.messages.length)\n',
    done: 'a failed produce request marks its sequence numbers uncertain',
  },
];

for (const { file, buggy, fixed, done, more = [] } of PATCHES) {
  if (!existsSync(file)) continue;
  const source = readFileSync(file, 'utf8');
  if (source.includes(fixed)) continue;
  // A patch in several places is applied whole or not at all.
  const edits = [[buggy, fixed], ...more];
  if (edits.some(([from]) => !source.includes(from))) {
    process.stderr.write(`patch-kafkajs: ${file} changed upstream; review scripts/patch-kafkajs.js\n`);
    continue;
  }
  writeFileSync(
    file,
    edits.reduce((text, [from, to]) => text.replace(from, to), source),
  );
  process.stdout.write(`patch-kafkajs: ${done}\n`);
}
