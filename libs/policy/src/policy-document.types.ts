import type { FieldGroup, NoticeType, Purpose, Scope, VictimCategory } from '@backbone/codec';
import type { DeathPenaltyStatus, Membership } from './registry.types.js';

// A policy document is one version of the community sharing rules (policies/rules/<version>.yaml).
// The rules the originator states on the alert itself (addressing, releasable-to, never-to,
// TLP, handling code, status, expiry, do-not-act-on) are built into the engine; the document
// holds what the community agrees on. docs/policy.md describes every kind.

export const RULE_KINDS = [
  'victim-protection',
  'redaction',
  'third-country-transfer',
  'capital-offence',
  'purpose-limits',
  'review-hold',
  'new-member',
  'exercise',
  'execution-flag',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Recipient facts that exempt it from a redaction rule (any one is enough). */
export const REDACTION_EXEMPTIONS = ['adequacy', 'areaMember', 'agreement', 'victimSupport'] as const;
export type RedactionExemption = (typeof REDACTION_EXEMPTIONS)[number];

/** Which originators' alerts a redaction rule applies to. */
export const REDACTION_ORIGINATORS = ['any', 'area'] as const;
export type RedactionOriginators = (typeof REDACTION_ORIGINATORS)[number];

/** What makes the gate attach an execution flag to a recipient's delivery. */
export const FLAG_TRIGGERS = ['do-not-act-on', 'handling-H1', 'handling-H2', 'handling-H3', 'capital-assurance'] as const;
export type FlagTrigger = (typeof FLAG_TRIGGERS)[number];

interface RuleBase<K extends RuleKind> {
  readonly id: string;
  readonly kind: K;
  readonly description: string;
}

/** Victim details of these categories reach only agencies designated for victim support. */
export interface VictimProtectionRule extends RuleBase<'victim-protection'> {
  readonly categories: readonly VictimCategory[];
}

/** Remove `group` for every recipient that has none of the `exemptIf` facts. */
export interface RedactionRule extends RuleBase<'redaction'> {
  readonly group: FieldGroup;
  readonly originators: RedactionOriginators;
  readonly exemptIf: readonly RedactionExemption[];
}

/**
 * Alerts from an originator inside `area` reach a recipient outside it only with a basis:
 * adequacy, one of `recognisedAgreements`, or the originator's consent on the alert.
 */
export interface TransferRule extends RuleBase<'third-country-transfer'> {
  readonly area: readonly Membership[];
  readonly recognisedAgreements: readonly string[];
}

/**
 * Capital-offence alerts do not reach recipients whose death-penalty status is listed,
 * unless the originator holds an assurance from that recipient.
 */
export interface CapitalOffenceRule extends RuleBase<'capital-offence'> {
  readonly recipientStatuses: readonly DeathPenaltyStatus[];
  /** originator code → recipient codes that gave it an assurance. */
  readonly assurances: Readonly<Record<string, readonly string[]>>;
}

export interface PurposeLimitsRule extends RuleBase<'purpose-limits'> {
  /** Notice type → the purposes it may carry. A notice type not listed may carry any. */
  readonly noticeTypes: Readonly<Partial<Record<NoticeType, readonly Purpose[]>>>;
  /** Agency code → the only purposes it may receive alerts for. An agency not listed: any. */
  readonly agencies: Readonly<Record<string, readonly Purpose[]>>;
}

/** Alerts of these notice types (and, if given, with any of these purposes) are HELD for review. */
export interface ReviewHoldRule extends RuleBase<'review-hold'> {
  readonly noticeTypes: readonly NoticeType[];
  /** Empty: every purpose. */
  readonly purposes: readonly Purpose[];
}

/**
 * An agency does not receive alerts of these scopes sent before it joined, except for the
 * exempt notice types.
 */
export interface NewMemberRule extends RuleBase<'new-member'> {
  readonly scopes: readonly Scope[];
  readonly exemptNoticeTypes: readonly NoticeType[];
}

/** The only agencies that receive Exercise and Test alerts carrying this exerciseId. */
export interface ExerciseRule extends RuleBase<'exercise'> {
  readonly exerciseId: string;
  readonly participants: readonly string[];
}

/** Attach `flag` to a recipient's delivery when `when` holds. */
export interface ExecutionFlagRule extends RuleBase<'execution-flag'> {
  readonly when: FlagTrigger;
  readonly flag: string;
}

export type PolicyRule =
  | VictimProtectionRule
  | RedactionRule
  | TransferRule
  | CapitalOffenceRule
  | PurposeLimitsRule
  | ReviewHoldRule
  | NewMemberRule
  | ExerciseRule
  | ExecutionFlagRule;

export interface PolicyDocument {
  /** The policy version written on every decision, e.g. `2026-11-01`. */
  readonly version: string;
  readonly description: string;
  /** The file it was loaded from (or a label for documents built in code). */
  readonly source: string;
  readonly rules: readonly PolicyRule[];
}
