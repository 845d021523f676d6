import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A name no other test (in this run, a parallel worker or an earlier run) uses: for topics, groups,
 * client and transactional ids. Only characters legal in Kafka topic names.
 */
export function uniqueName(prefix = 't'): string {
  counter += 1;
  const safe = prefix.replace(/[^A-Za-z0-9._-]/g, '-');
  return `${safe}-${Date.now().toString(36)}-${process.pid.toString(36)}${counter.toString(36)}-${randomBytes(3).toString('hex')}`;
}
