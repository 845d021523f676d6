import { CONSUMER_GROUP_TIMING } from './consumer.supervision.js';

/**
 * KafkaJS heartbeats only from its fetch loop or when eachBatch calls `heartbeat()`. A batch that
 * waits longer than the session (6 s) for one step, e.g. a restarted gate registering its
 * partitions' transactional producers on a loaded machine, lost its membership right after joining
 * and the whole group rebalanced again. This keeps heartbeating while `work` runs. A heartbeat that
 * fails (the group is rebalancing) is ignored here: the consumer's own next heartbeat or fetch
 * reports it, and correctness never rests on membership (the gate's producers are fenced).
 */
export async function heartbeatWhile<T>(
  work: Promise<T>,
  heartbeat: () => Promise<void>,
  everyMs: number = CONSUMER_GROUP_TIMING.heartbeatInterval,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const beat = (): void => {
    timer = setTimeout(() => {
      void heartbeat()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) beat();
        });
    }, everyMs);
  };
  beat();
  try {
    return await work;
  } finally {
    stopped = true;
    clearTimeout(timer);
  }
}
