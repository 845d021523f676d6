import type { Region } from '@backbone/codec';

/** Every topic name in one place. A prefix isolates a test run or a tenant without renaming anything. */
export interface TopicNames {
  readonly submitted: string;
  readonly deadLetter: string;
  readonly audit: string;
  /** Signed ledger heads, anchored outside the database (only the audit logger writes it). */
  readonly checkpoints: string;
  feedFor(agency: string): string;
  readonly feedPrefix: string;
}

export function topicNames(prefix = ''): TopicNames {
  return {
    submitted: `${prefix}alerts.submitted`,
    deadLetter: `${prefix}alerts.dead-letter`,
    audit: `${prefix}audit.events`,
    checkpoints: `${prefix}audit.checkpoints`,
    feedPrefix: `${prefix}alerts.feed.`,
    feedFor: (agency: string) => `${prefix}alerts.feed.${agency}`,
  };
}

export const TOPICS = topicNames();

/** alerts.submitted is split into one contiguous partition range per INTERPOL region. */
export const REGION_ORDER: readonly Region[] = ['AFRICA', 'AMERICAS', 'ASIA_SOUTH_PACIFIC', 'EUROPE', 'MIDDLE_EAST_NORTH_AFRICA'];
export const PARTITIONS_PER_REGION = 3;
export const SUBMITTED_PARTITIONS = REGION_ORDER.length * PARTITIONS_PER_REGION;
