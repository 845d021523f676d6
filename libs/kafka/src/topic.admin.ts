import type { Admin } from 'kafkajs';

export interface NewTopic {
  topic: string;
  numPartitions: number;
  /** Omitted: the broker's default (1 on the local broker, 3 on a cluster). */
  replicationFactor?: number;
}

/** Errors a just-started (or just-formatted) KRaft broker answers while its metadata settles. */
const SETTLING = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_CONTROLLER',
  'REQUEST_TIMED_OUT',
  'NOT_LEADER_OR_FOLLOWER',
]);

function errorType(err: unknown): string | undefined {
  const e = err as { type?: string; errors?: { type?: string }[] } | null;
  return e?.type ?? e?.errors?.[0]?.type;
}

/**
 * Creates topics (those that already exist are fine) and returns once every partition of every
 * one has a leader in the metadata this admin sees. KafkaJS's own `waitForLeaders` gives up with
 * UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this topic-partition") when the metadata
 * of a broker that was formatted seconds ago lags the controller, so the wait here is ours: create
 * without waiting, then poll the metadata until a deadline, re-sending the create on a settling error.
 */
export async function createTopicsAndWait(admin: Admin, topics: readonly NewTopic[], timeoutMs = 60_000): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  const names = topics.map((t) => t.topic);
  const want = new Map(topics.map((t) => [t.topic, t.numPartitions]));
  let created = false;
  let last = '';
  while (Date.now() < deadline) {
    if (!created) {
      try {
        // TOPIC_ALREADY_EXISTS is not an error for KafkaJS's createTopics (it answers false).
        await admin.createTopics({ topics: topics.map((t) => ({ ...t })), waitForLeaders: false });
        created = true;
      } catch (err) {
        if (!SETTLING.has(errorType(err) ?? '')) throw err;
        last = `create: ${(err as Error).message}`;
      }
    }
    if (created) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: names });
        const ready =
          meta.topics.length === names.length &&
          meta.topics.every((t) => t.partitions.length >= (want.get(t.name) ?? 1) && t.partitions.every((p) => p.leader >= 0));
        if (ready) return;
        last = 'partitions without a leader';
      } catch (err) {
        if (!SETTLING.has(errorType(err) ?? '')) throw err;
        last = `metadata: ${(err as Error).message}`;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `topics ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` (+${names.length - 3})` : ''} not ready within ${timeoutMs / 1000} s: ${last}`,
  );
}
