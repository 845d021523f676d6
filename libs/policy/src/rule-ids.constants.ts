// Every rule id the engine can put on a decision, in one place. They are written to the
// audit log and compliance staff query by them, so they are stable: add new ids, never
// rename or reuse one. docs/policy.md lists them with their precedence.

/** Deny reasons that hold for the whole alert, checked first, in this order. */
export const ALERT_RULE_IDS = {
  /** Draft and System alerts are never delivered to anyone. */
  statusNotDeliverable: 'status.not-deliverable',
  /** `expires` is at or before the decision time. */
  expired: 'expiry.expired',
  /** The sender is not an agency of the registry. */
  originatorUnknown: 'originator.unknown',
  /** Exercise/Test alert without an exerciseId, or with one the policy does not know. */
  exerciseUnknown: 'exercise.unknown',
  /** The alert carries a purpose its notice type may not carry. */
  purposeNoticeType: 'purpose.notice-type',
} as const;

/** Deny reasons decided per recipient, checked in this order (the first one decides). */
export const RECIPIENT_DENY_RULE_IDS = {
  /** The originator never receives its own alert. */
  selfOriginator: 'self.originator',
  neverTo: 'deny.never-to',
  exerciseNotParticipant: 'exercise.not-participant',
  /** The recipient's `joined` date lies after the decision time: not a member yet. */
  notYetJoined: 'membership.not-yet-joined',
  notAddressed: 'addressing.not-addressed',
  notReleasableTo: 'deny.not-releasable-to',
  tlpRedNotAddressed: 'tlp.red.not-addressed',
  scopePrivateNotAddressed: 'scope.private.not-addressed',
  /** New-member rule: a restricted alert sent before the recipient joined. */
  joinedAfterSent: 'membership.joined-after-sent',
  transferNoBasis: 'transfer.no-basis',
  capitalNoAssurance: 'capital.no-assurance',
  purposeAgency: 'purpose.agency-not-permitted',
} as const;

/** The recipient passes every deny rule but a review hold matches the alert. */
export const HOLD_RULE_IDS = {
  reviewHold: 'review.hold',
} as const;

/** Why a recipient is allowed: the addressing mode that reached it. */
export const ALLOW_RULE_IDS = {
  addressingAll: 'addressing.all',
  addressingRegions: 'addressing.regions',
  addressingExplicit: 'addressing.explicit',
} as const;

/**
 * Obligations never decide an outcome on their own (the deciding rule of an
 * ALLOW_WITH_OBLIGATIONS stays the addressing rule); they show up in `explain`.
 */
export const OBLIGATION_RULE_IDS = {
  redaction: 'obligation.redact',
  victimProtection: 'obligation.victim-protection',
  tlpNoReshare: 'obligation.tlp.no-reshare',
  handlingNoReshare: 'obligation.handling.no-reshare',
  executionFlag: 'obligation.execution-flag',
} as const;

/**
 * Rule ids the policy gate writes on deliveries and in audit events, never the engine: they
 * are kept out of RULE_IDS because that is the set of ids the engine itself can decide by.
 */
export const GATE_RULE_IDS = {
  /** A recall delivery: policy would not send this version now, delivery history does. */
  recallPastRecipient: 'recall.past-recipient',
  /** A held alert released by a reviewer. */
  reviewReleased: 'review.released',
  /** A held agency the registry no longer lists: its feed and principal are revoked. */
  registryUnknownAgency: 'registry.unknown-agency',
} as const;

export const RULE_IDS = {
  ...ALERT_RULE_IDS,
  ...RECIPIENT_DENY_RULE_IDS,
  ...HOLD_RULE_IDS,
  ...ALLOW_RULE_IDS,
  ...OBLIGATION_RULE_IDS,
} as const;

type ValueOf<T> = T[keyof T];
export type AlertRuleId = ValueOf<typeof ALERT_RULE_IDS>;
export type RecipientDenyRuleId = ValueOf<typeof RECIPIENT_DENY_RULE_IDS>;
export type DenyRuleId = AlertRuleId | RecipientDenyRuleId;
export type AllowRuleId = ValueOf<typeof ALLOW_RULE_IDS>;
export type ObligationRuleId = ValueOf<typeof OBLIGATION_RULE_IDS>;
/** A rule id that can decide an outcome. */
export type DecidingRuleId = DenyRuleId | ValueOf<typeof HOLD_RULE_IDS> | AllowRuleId;
export type RuleId = ValueOf<typeof RULE_IDS>;
export type GateRuleId = ValueOf<typeof GATE_RULE_IDS>;
