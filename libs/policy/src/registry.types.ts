import type { Region } from '@backbone/codec';

export const MEMBERSHIPS = ['EU', 'SCHENGEN'] as const;
export type Membership = (typeof MEMBERSHIPS)[number];

export const DEATH_PENALTY_STATUSES = ['abolitionist', 'abolitionist_in_practice', 'retentionist'] as const;
export type DeathPenaltyStatus = (typeof DEATH_PENALTY_STATUSES)[number];

/** One member agency (a national central bureau or liaison office) of the backbone. */
export interface Agency {
  /** Stable code, e.g. `FR-NCB`; also names the agency's Kafka principal and feed topic. */
  readonly code: string;
  readonly name: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
  readonly region: Region;
  readonly memberships: readonly Membership[];
  /** Agreement codes (e.g. `EU_OPERATIONAL`); which ones count as a transfer basis is policy. */
  readonly agreements: readonly string[];
  /** The country has an adequacy decision (its data protection is recognised as equivalent). */
  readonly adequacy: boolean;
  readonly deathPenalty: DeathPenaltyStatus;
  /** Designated for victim support: may receive victim details. */
  readonly victimSupport: boolean;
  /** Midnight UTC of the day the agency joined the backbone. */
  readonly joined: Date;
}

export interface Registry {
  readonly version: string;
  /** Where it was loaded from (a file path, or `synthetic:<n>`): named in errors and explanations. */
  readonly source: string;
  readonly agencies: readonly Agency[];
}
