import { ConfigError, loadConfig, settings, type ConfigOf } from '@backbone/bootstrap';

/** How every consumer retries, parks and reports a stalled partition (docs/operator.md). */
export const CONSUMER_SAFETY_SETTINGS = {
  CONSUMER_MAX_ATTEMPTS: settings.int({
    description: 'Attempts of a record that fails permanently (undecodable, refused by PostgreSQL) before it is parked',
    default: 3,
    min: 1,
    max: 100,
  }),
  CONSUMER_RETRY_BACKOFF_MS: settings.int({
    description: 'First back-off between attempts of a failing record (ms); doubles per attempt',
    default: 200,
    min: 1,
    max: 60_000,
  }),
  CONSUMER_RETRY_BACKOFF_MAX_MS: settings.int({
    description: 'Longest back-off between attempts (ms)',
    default: 10_000,
    min: 1,
    max: 600_000,
  }),
  CONSUMER_STALL_AFTER_MS: settings.int({
    description: 'A partition with lag whose committed offset has not moved for this long makes /health/ready not-ready (ms)',
    default: 60_000,
    min: 1_000,
    max: 86_400_000,
  }),
  CONSUMER_PROGRESS_INTERVAL_MS: settings.int({
    // Each sample is about six admin requests per consumer (coordinator, committed offsets, both
    // ends of every partition); every 5 s, the idle subscriber host's twenty agencies made that
    // two dozen requests a second. A stall still shows within CONSUMER_STALL_AFTER_MS plus one interval.
    description: 'How often lag and committed offsets are sampled (ms)',
    default: 15_000,
    min: 100,
    max: 600_000,
  }),
} as const;

export type ConsumerSafetySettings = ConfigOf<typeof CONSUMER_SAFETY_SETTINGS>;

export function loadConsumerSafetySettings(env: NodeJS.ProcessEnv = process.env): ConsumerSafetySettings {
  const s = loadConfig(CONSUMER_SAFETY_SETTINGS, env);
  const problems: string[] = [];
  if (s.CONSUMER_RETRY_BACKOFF_MAX_MS < s.CONSUMER_RETRY_BACKOFF_MS) {
    problems.push('CONSUMER_RETRY_BACKOFF_MAX_MS: must be >= CONSUMER_RETRY_BACKOFF_MS');
  }
  // A stall is only seen between samples: the window must hold at least two of them.
  if (s.CONSUMER_STALL_AFTER_MS < 2 * s.CONSUMER_PROGRESS_INTERVAL_MS) {
    problems.push('CONSUMER_STALL_AFTER_MS: must be at least twice CONSUMER_PROGRESS_INTERVAL_MS');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return s;
}

export const DEFAULT_CONSUMER_SAFETY: ConsumerSafetySettings = loadConsumerSafetySettings({});
