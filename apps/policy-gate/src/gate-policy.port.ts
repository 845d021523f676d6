import type { Alert } from '@backbone/codec';
import type { GateOutcome } from '@backbone/gate-store';

// The gate depends on the policy engine through this narrow port, not on @backbone/policy's
// types directly: the engine is written in parallel and its surface may still move, and the
// integration tests of the gate's Kafka semantics (exactly-once, recall, dead-lettering) can
// run against a small deterministic policy. policy-engine.adapter.ts binds the real engine.

export type { GateOutcome } from '@backbone/gate-store';

/** Every registry agency's outcome for one alert version, computed at once. */
export interface GateDecision {
  readonly policyVersion: string;
  readonly outcomes: readonly GateOutcome[];
}

export interface GatePolicy {
  /** The version written on every decision. */
  readonly policyVersion: string;
  decide(alert: Alert, now: Date): GateDecision;
  /**
   * The copy of `alert` that `outcome.agency` may receive (obligations applied: `redactedGroups`
   * removed, the originator's neverTo and consentedThirdCountries emptied). Recall copies go
   * through it too, with every present group in `redactedGroups`.
   */
  redact(alert: Alert, outcome: GateOutcome): Alert;
}
