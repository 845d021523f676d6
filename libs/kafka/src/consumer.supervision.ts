import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';

/**
 * Group timing shared by every Backbone consumer. A member killed with SIGKILL never leaves its
 * group, so its replacement's join waits until the coordinator expires the dead member's session:
 * the session timeout bounds how long a restarted consumer stays idle. 6 s is the broker's default
 * group.min.session.timeout.ms (the shortest it accepts). KafkaJS heartbeats from the fetch loop
 * and from each batch's heartbeat() call; one a second leaves five chances per session, so a batch
 * must stay well under 6 s between heartbeats (the gate's slices and the ledger's batches do). A
 * live member has rebalanceTimeout to finish its batch and rejoin before the group moves on
 * without it; a member that misses it is fenced out of its partitions and simply rejoins.
 */
export const CONSUMER_GROUP_TIMING = { sessionTimeout: 6_000, heartbeatInterval: 1_000, rebalanceTimeout: 10_000 } as const;

/** Exponential back-off between in-process restarts: 500 ms doubling to 10 s, reset once the group is joined. */
export class RestartBackoff {
  private attempt = 0;

  constructor(
    private readonly initialMs = 500,
    private readonly maxMs = 10_000,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt++);
    return Math.round(base * (0.5 + Math.random() / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}

export interface CrashSupervision {
  /** Consumer name in logs. */
  name: string;
  logger: Logger | undefined;
  /** Creates, connects and runs a fresh consumer (which must be supervised again). */
  restart: () => Promise<void>;
  /** True once the owner is shutting down: no more restarts. */
  stopped: () => boolean;
  backoff: RestartBackoff;
}

/**
 * KafkaJS restarts a crashed consumer only after a retriable error. After a non-retriable one
 * ("Failed to find group coordinator" while the brokers are away, an exhausted retry of a
 * PostgreSQL write) it stops for good and the process would idle or exit. Every outage the
 * service can wait out ends the same way: this restarts the consumer in-process with back-off,
 * as long as it takes.
 */
export function superviseCrashes(consumer: Consumer, s: CrashSupervision): void {
  consumer.on(consumer.events.GROUP_JOIN, () => s.backoff.reset());
  consumer.on(consumer.events.CRASH, (event) => {
    if (event.payload.restart || s.stopped()) return;
    scheduleRestart(s, event.payload.error);
  });
}

function scheduleRestart(s: CrashSupervision, cause: Error): void {
  const delayMs = s.backoff.next();
  s.logger?.error({ err: cause, consumer: s.name, delayMs }, 'consumer stopped on a non-retriable error; restarting it in-process');
  setTimeout(() => {
    if (s.stopped()) return;
    s.restart().catch((err: unknown) => scheduleRestart(s, err instanceof Error ? err : new Error(String(err))));
  }, delayMs);
}
