// The policy gate's PostgreSQL store (schema policy_gate): written by apps/policy-gate, read by the CLI.
export { GateRepository, GATE_SCHEMA, type StoredDecision, type HeldAlert, type LockedHold, type Reviewer } from './gate.repository.js';
export { explainDecision, type DecisionExplanation, type VersionExplanation } from './decision.explainer.js';
export type { GateOutcome, PastRecipient, RecipientRow, DecisionRow, HoldRow, BatchRows } from './gate-rows.types.js';
