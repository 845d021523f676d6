import { createHash } from 'node:crypto';
import type { Region } from '@backbone/codec';
import { PARTITIONS_PER_REGION, REGION_ORDER } from '@backbone/kafka';

/**
 * The alerts.submitted partition of an alert: the sender region's range, then a stable hash of
 * the alertId inside it. Depends on nothing but (region, alertId), so every version of an alert
 * lands on the same partition and stays in order there, whichever instance publishes it.
 */
export function submittedPartition(region: Region, alertId: string): number {
  const regionIndex = REGION_ORDER.indexOf(region);
  if (regionIndex < 0) throw new Error(`region ${region} has no partition range`);
  // SHA-256 rather than String.hashCode-style arithmetic: uniform over UUIDs and identical in any language.
  const digest = createHash('sha256').update(alertId.toLowerCase(), 'utf8').digest();
  return regionIndex * PARTITIONS_PER_REGION + (digest.readUInt32BE(0) % PARTITIONS_PER_REGION);
}
