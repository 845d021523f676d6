import { createRequire } from 'node:module';

// scripts/patch-kafkajs.js fixes two KafkaJS 2.2.4 bugs at install; these checks fail if an
// install skipped it or an upgrade changed the code it patches.
const require = createRequire(import.meta.url);

interface RequestQueueLike {
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
}

const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('KafkaJS patches (scripts/patch-kafkajs.js)', () => {
  it('an idle request queue arms no timer (no 1 ms loop per connection)', () => {
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => RequestQueueLike;
    const queue = new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: 'spec',
      broker: 'localhost:1',
      logger: quietLogger,
    });
    try {
      queue.checkPendingRequests();
      expect(queue.pending).toHaveLength(0);
      expect(queue.throttleCheckTimeoutId).toBeNull();
    } finally {
      queue.destroy();
    }
  });

  it('a transactional send waits for every in-flight request before it retries', () => {
    const source = require('node:fs').readFileSync(require.resolve('kafkajs/src/producer/sendMessages.js'), 'utf8') as string;
    expect(source).toContain('await Promise.allSettled(requests)');
    expect(source).not.toContain('await Promise.all(requests)');
  });
});
