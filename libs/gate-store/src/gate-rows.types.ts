import type { DecisionOutcome, FieldGroup } from '@backbone/codec';

// The rows the policy gate stores per batch, and the outcome shape they carry: shared by the gate
// (which writes them) and the CLI (which explains them).

/** One agency's outcome for one alert version. */
export interface GateOutcome {
  readonly agency: string;
  readonly outcome: DecisionOutcome;
  readonly ruleId: string;
  readonly redactedGroups: readonly FieldGroup[];
  readonly executionFlags: readonly string[];
  readonly noReshare: boolean;
}

export interface PastRecipient {
  readonly agency: string;
  readonly firstVersion: number;
}

export interface RecipientRow {
  readonly alertId: string;
  readonly agency: string;
  readonly version: number;
  readonly recall: boolean;
}

export interface DecisionRow {
  readonly alertId: string;
  readonly version: number;
  readonly msgType: string;
  readonly sender: string;
  readonly policyVersion: string;
  readonly decidedAt: Date;
  readonly alert: Buffer;
  readonly outcomes: readonly GateOutcome[];
  readonly recalled: readonly string[];
}

export interface HoldRow {
  readonly alertId: string;
  readonly version: number;
  readonly agency: string;
  readonly ruleId: string;
  readonly policyVersion: string;
  readonly heldAt: Date;
  readonly alert: Buffer;
}

/** What one batch writes to PostgreSQL (the gate's batch assembler produces it). */
export interface BatchRows {
  readonly recipients: readonly RecipientRow[];
  readonly decisions: readonly DecisionRow[];
  readonly holds: readonly HoldRow[];
}
