// TypeScript mirror of schemas/delivery.v1.avsc, audit-event.v2.avsc and dead-letter.v1.avsc.
import type { FieldGroup, MsgType } from './alert.types.js';

export type DeliveryOutcome = 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS';

export interface Delivery {
  deliveryId: string;
  recipient: string;
  alertId: string;
  alertVersion: number;
  msgType: MsgType;
  decidedAt: Date;
  policyVersion: string;
  ruleId: string;
  outcome: DeliveryOutcome;
  redactedGroups: FieldGroup[];
  executionFlags: string[];
  noReshare: boolean;
  recall: boolean;
  replay: boolean;
  /** The redacted alert, single-object encoded. */
  alert: Buffer;
}

export const AUDIT_EVENT_TYPES = [
  'SUBMITTED',
  'REJECTED',
  'DECIDED',
  'DELIVERED',
  'ACKNOWLEDGED',
  'UPDATED',
  'CANCELLED',
  'PURGED',
  'DEAD_LETTERED',
  'AUDIT_ACCESSED',
  'REPLAYED',
  'UNKNOWN',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export const DECISION_OUTCOMES = ['ALLOW', 'ALLOW_WITH_OBLIGATIONS', 'DENY', 'HOLD'] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

export interface RecipientDecision {
  agency: string;
  outcome: DecisionOutcome;
  ruleId: string;
  redactedGroups: string[];
  executionFlags: string[];
}

export interface AuditEvent {
  eventId: string;
  type: AuditEventType;
  occurredAt: Date;
  service: string;
  actor: string | null;
  alertId: string | null;
  alertVersion: number | null;
  originator: string | null;
  noticeType: string | null;
  agency: string | null;
  policyVersion: string | null;
  decisions: RecipientDecision[];
  reason: string | null;
  details: Record<string, string>;
  payload: Buffer | null;
  /** v2: the emitter's Ed25519 signature; null on v1 events (read through the v1 schema) and unsigned traffic. */
  signature: EventSignature | null;
}

export interface EventSignature {
  /** The Kafka principal whose event key signed. */
  signer: string;
  keyId: string;
  value: Buffer;
}

export const DEAD_LETTER_REASONS = [
  'UNDECODABLE',
  'UNKNOWN_SCHEMA',
  'INVALID_RECORD',
  'POLICY_ERROR',
  'UNKNOWN',
  'UNSTORABLE',
  'FORGED',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface DeadLetter {
  deadLetterId: string;
  service: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  key: Buffer | null;
  value: Buffer | null;
  reason: DeadLetterReason;
  detail: string;
  failedAt: Date;
}
