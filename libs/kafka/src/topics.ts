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
  /** Where a consuming service parks records it can never process (the gate keeps alerts.dead-letter). */
  parkedFor(service: string): string;
  readonly parkedPrefix: string;
}

/** Consumer service names as they appear in parked-topic names. */
export const PARKING_SERVICES = {
  gate: 'policy-gate',
  auditLogger: 'audit-logger',
  subscriber: (agency: string): string => `subscriber-${agency}`,
} as const;

export function topicNames(prefix = ''): TopicNames {
  return {
    submitted: `${prefix}alerts.submitted`,
    deadLetter: `${prefix}alerts.dead-letter`,
    audit: `${prefix}audit.events`,
    checkpoints: `${prefix}audit.checkpoints`,
    feedPrefix: `${prefix}alerts.feed.`,
    feedFor: (agency: string) => `${prefix}alerts.feed.${agency}`,
    parkedPrefix: `${prefix}parked.`,
    parkedFor: (service: string) => (service === PARKING_SERVICES.gate ? `${prefix}alerts.dead-letter` : `${prefix}parked.${service}`),
  };
}

export const TOPICS = topicNames();

/** alerts.submitted is split into one contiguous partition range per INTERPOL region. */
export const REGION_ORDER: readonly Region[] = ['AFRICA', 'AMERICAS', 'ASIA_SOUTH_PACIFIC', 'EUROPE', 'MIDDLE_EAST_NORTH_AFRICA'];
export const PARTITIONS_PER_REGION = 3;
export const SUBMITTED_PARTITIONS = REGION_ORDER.length * PARTITIONS_PER_REGION;
