import type { DecisionOutcome, FieldGroup } from '@backbone/codec';
import type { DecidingRuleId } from './rule-ids.constants.js';

/** What one agency gets for one alert. */
export interface RecipientOutcome {
  readonly agency: string;
  readonly outcome: DecisionOutcome;
  /** The rule that decided the outcome (RULE_IDS). */
  readonly ruleId: DecidingRuleId;
  /** Field groups the gate must remove before delivery (empty when denied). */
  readonly redactedGroups: readonly FieldGroup[];
  /** Flags the recipient must honour, e.g. DO_NOT_ACT_ON_TERRITORY (empty when denied). */
  readonly executionFlags: readonly string[];
  /** The recipient may not pass the alert on outside its own agency. */
  readonly noReshare: boolean;
}

/** The decision for one alert: one outcome per registry agency, in registry order. */
export interface Decision {
  readonly alertId: string;
  readonly alertVersion: number;
  readonly policyVersion: string;
  readonly registryVersion: string;
  readonly decidedAt: Date;
  readonly outcomes: RecipientOutcome[];
}
