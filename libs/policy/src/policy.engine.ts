import {
  ADDRESSING_MODES,
  FIELD_GROUPS,
  HANDLING_CODES,
  MSG_TYPES,
  NOTICE_TYPES,
  PURPOSES,
  REGIONS,
  SCOPES,
  STATUSES,
  TLPS,
  VICTIM_CATEGORIES,
  type Alert,
  type FieldGroup,
} from '@backbone/codec';
import type { Decision, RecipientOutcome } from './decision.types.js';
import { compilePolicy, CompiledPolicy, foldCode, GROUP_BIT, purposeMask, type CompiledReviewHold } from './policy.compiler.js';
import type { PolicyDocument } from './policy-document.types.js';
import type { Registry } from './registry.types.js';
import { RULE_IDS, type AlertRuleId, type AllowRuleId, type DecidingRuleId, type RecipientDenyRuleId } from './rule-ids.constants.js';

// The engine. Precedence, highest first (docs/policy.md explains each):
//   1. alert-wide denials (ALERT_CHECKS)            → every agency DENY
//   2. per-recipient denials (RECIPIENT_CHECKS)      → DENY, first matching check decides
//   3. review hold                                   → HOLD (obligations still computed)
//   4. addressing                                    → ALLOW, or ALLOW_WITH_OBLIGATIONS when
//                                                      there are redactions, flags or noReshare
// decide() and explain() run the same check tables, so an explanation can never disagree
// with the decision it explains.

const NEVER_TO = 1;
const RELEASABLE_TO = 2;
const EXPLICIT = 4;
const CONSENTED = 8;
const DO_NOT_ACT_ON = 16;

const MODE_ALL = 0;
const MODE_REGIONS = 1;
const MODE_EXPLICIT = 2;

/** Everything about one alert the per-recipient checks need, computed once per alert. */
export interface AlertContext {
  readonly alert: Alert;
  readonly c: CompiledPolicy;
  readonly nowMs: number;
  /** Per agency: which of the alert's code lists name it (bit flags above). */
  readonly marks: Uint8Array;
  readonly senderIdx: number;
  readonly mode: number;
  readonly regionMask: number;
  readonly exerciseMask: Uint8Array | null;
  readonly newMemberApplies: boolean;
  readonly sentMs: number;
  readonly transferApplies: boolean;
  readonly capitalApplies: boolean;
  readonly assured: Uint8Array | null;
  readonly purposes: number;
  readonly hold: CompiledReviewHold | null;
  readonly groupsPresent: number;
  readonly originatorInArea: boolean;
  readonly victimApplies: boolean;
  readonly baseFlags: readonly string[];
  readonly tlpNoReshare: boolean;
  readonly handlingNoReshare: boolean;
  readonly permitId: AllowRuleId;
  /** The recipient checks that can fire for this alert, in precedence order. */
  readonly checks: readonly RecipientCheck[];
  /** Obligation arrays already built for this alert, shared by recipients with the same ones. */
  readonly obligations: Map<number, { readonly redactedGroups: readonly FieldGroup[]; readonly executionFlags: readonly string[] }>;
}

export interface AlertCheck {
  readonly id: AlertRuleId;
  denies(alert: Alert, c: CompiledPolicy, nowMs: number): boolean;
  why(alert: Alert, c: CompiledPolicy, nowMs: number): string;
}

export interface RecipientCheck {
  readonly id: RecipientDenyRuleId;
  /** Whether the check can deny anyone for this alert; inactive checks are skipped in the loop. */
  active(ctx: AlertContext): boolean;
  denies(ctx: AlertContext, i: number): boolean;
  why(ctx: AlertContext, i: number): string;
}

const isExerciseTraffic = (alert: Alert) => alert.status === 'Exercise' || alert.status === 'Test';
const listed = (ctx: AlertContext, i: number, bit: number) => (ctx.marks[i]! & bit) !== 0;
const namedRecipient = (ctx: AlertContext, i: number) => ctx.mode === MODE_EXPLICIT && listed(ctx, i, EXPLICIT);
const ruleRef = (rule: { id: string } | null | undefined) => (rule ? ` (policy rule ${rule.id})` : '');

export const ALERT_CHECKS: readonly AlertCheck[] = [
  {
    id: RULE_IDS.statusNotDeliverable,
    denies: (alert) => alert.status === 'Draft' || alert.status === 'System',
    why: (alert) => `status ${alert.status} alerts are never delivered`,
  },
  {
    id: RULE_IDS.expired,
    denies: (alert, _c, nowMs) => alert.expires !== null && alert.expires.getTime() <= nowMs,
    why: (alert, _c, nowMs) => `expired at ${alert.expires?.toISOString()} (decision time ${new Date(nowMs).toISOString()})`,
  },
  {
    id: RULE_IDS.originatorUnknown,
    denies: (alert, c) => !c.indexByCode.has(alert.sender),
    why: (alert, c) => `sender ${alert.sender} is not in registry ${c.registryVersion}`,
  },
  {
    id: RULE_IDS.exerciseUnknown,
    denies: (alert, c) => isExerciseTraffic(alert) && (alert.exerciseId === null || !c.exercises.has(alert.exerciseId)),
    why: (alert) =>
      alert.exerciseId === null
        ? `a ${alert.status} alert without exerciseId reaches nobody`
        : `exercise ${alert.exerciseId} is not defined in this policy version, so the ${alert.status} alert reaches nobody`,
  },
  {
    id: RULE_IDS.purposeNoticeType,
    denies: (alert, c) => {
      const allowed = c.noticeTypePurposes.get(alert.noticeType);
      return allowed !== undefined && (purposeMask(alert.purposes) & ~allowed) !== 0;
    },
    why: (alert, c) => {
      const allowed = c.purposeRule?.noticeTypes[alert.noticeType] ?? [];
      const bad = alert.purposes.filter((purpose) => !allowed.includes(purpose));
      return `a ${alert.noticeType} notice may not carry ${bad.join(', ')} (allowed: ${allowed.join(', ') || 'none'})${ruleRef(c.purposeRule)}`;
    },
  },
];

export const RECIPIENT_CHECKS: readonly RecipientCheck[] = [
  {
    id: RULE_IDS.selfOriginator,
    active: (ctx) => ctx.senderIdx >= 0,
    denies: (ctx, i) => i === ctx.senderIdx,
    why: () => 'the originator does not receive its own alert',
  },
  {
    id: RULE_IDS.neverTo,
    active: (ctx) => ctx.alert.neverTo.length > 0,
    denies: (ctx, i) => listed(ctx, i, NEVER_TO),
    why: () => 'listed in neverTo',
  },
  {
    id: RULE_IDS.exerciseNotParticipant,
    active: (ctx) => ctx.exerciseMask !== null,
    denies: (ctx, i) => ctx.exerciseMask![i] !== 1,
    why: (ctx) => `not a participant of exercise ${ctx.alert.exerciseId}${ruleRef(ctx.c.exerciseRules.get(ctx.alert.exerciseId ?? ''))}`,
  },
  {
    id: RULE_IDS.notYetJoined,
    active: () => true,
    denies: (ctx, i) => ctx.c.joinedMs[i]! > ctx.nowMs,
    why: (ctx, i) => `joins the backbone on ${isoDate(ctx.c.joinedMs[i]!)}`,
  },
  {
    id: RULE_IDS.notAddressed,
    active: (ctx) => ctx.mode !== MODE_ALL,
    denies: (ctx, i) => (ctx.mode === MODE_REGIONS ? ((ctx.regionMask >> ctx.c.regionIndex[i]!) & 1) === 0 : !listed(ctx, i, EXPLICIT)),
    why: (ctx, i) => {
      const { addressing } = ctx.alert;
      if (ctx.mode === MODE_REGIONS) {
        return `addressed to regions [${addressing.regions.join(', ')}], agency is in ${REGIONS[ctx.c.regionIndex[i]!]}`;
      }
      return addressing.agencies.length === 0
        ? 'explicit addressing with an empty list reaches nobody'
        : 'not in the explicit addressing list';
    },
  },
  {
    id: RULE_IDS.notReleasableTo,
    active: (ctx) => ctx.alert.releasableTo.length > 0,
    denies: (ctx, i) => !listed(ctx, i, RELEASABLE_TO),
    why: () => 'releasableTo is set and does not list this agency',
  },
  {
    id: RULE_IDS.tlpRedNotAddressed,
    active: (ctx) => ctx.alert.tlp === 'RED',
    denies: (ctx, i) => !namedRecipient(ctx, i),
    why: () => 'TLP:RED reaches only recipients named in an explicit addressing list',
  },
  {
    id: RULE_IDS.scopePrivateNotAddressed,
    active: (ctx) => ctx.alert.scope === 'Private',
    denies: (ctx, i) => !namedRecipient(ctx, i),
    why: () => 'CAP scope Private reaches only recipients named in an explicit addressing list',
  },
  {
    id: RULE_IDS.joinedAfterSent,
    active: (ctx) => ctx.newMemberApplies,
    denies: (ctx, i) => ctx.sentMs < ctx.c.joinedMs[i]!,
    why: (ctx, i) =>
      `a ${ctx.alert.scope} alert sent ${ctx.alert.sent.toISOString()}, before the agency joined on ${isoDate(ctx.c.joinedMs[i]!)}${ruleRef(ctx.c.newMember?.rule)}`,
  },
  {
    id: RULE_IDS.transferNoBasis,
    active: (ctx) => ctx.transferApplies,
    denies: (ctx, i) => ctx.c.inArea[i] === 0 && ctx.c.transferBasis[i] === 0 && !listed(ctx, i, CONSENTED),
    why: (ctx) => {
      const rule = ctx.c.transferRule;
      return (
        `outside ${rule?.area.join('/')} with no transfer basis: no adequacy, no recognised agreement ` +
        `(${rule?.recognisedAgreements.join(', ') || 'none'}), not in consentedThirdCountries${ruleRef(rule)}`
      );
    },
  },
  {
    id: RULE_IDS.capitalNoAssurance,
    active: (ctx) => ctx.capitalApplies,
    denies: (ctx, i) => ctx.c.capitalStatus[i] === 1 && (ctx.assured === null || ctx.assured[i] !== 1),
    why: (ctx) =>
      `capital offence: the recipient's death-penalty status requires an assurance to ${ctx.alert.sender}, none on file${ruleRef(ctx.c.capitalRule)}`,
  },
  {
    id: RULE_IDS.purposeAgency,
    active: (ctx) => ctx.purposes !== 0 && ctx.c.purposeRule !== null,
    denies: (ctx, i) => (ctx.purposes & ~ctx.c.agencyPurposes[i]!) !== 0,
    why: (ctx, i) => {
      const allowed = ctx.c.purposeRule?.agencies[ctx.c.codes[i]!] ?? [];
      const bad = ctx.alert.purposes.filter((purpose) => !allowed.includes(purpose));
      return `the agency may not receive alerts for ${bad.join(', ')}${ruleRef(ctx.c.purposeRule)}`;
    },
  },
];

/** Decides every registry agency at once. `compiled` comes from compilePolicy (build it once). */
export function decide(alert: Alert, compiled: CompiledPolicy, now: Date): Decision;
/** Convenience form: compiles (and caches per registry/policy object pair) on first use. */
export function decide(alert: Alert, registry: Registry, policy: PolicyDocument, now: Date): Decision;
export function decide(alert: Alert, a: CompiledPolicy | Registry, b: PolicyDocument | Date, c?: Date): Decision {
  const compiled = a instanceof CompiledPolicy ? a : compilePolicy(a, b as PolicyDocument);
  const now = a instanceof CompiledPolicy ? (b as Date) : c;
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new TypeError('decide: now must be a valid Date');
  assertAlertInSchema(alert);
  const nowMs = now.getTime();
  const n = compiled.size;
  const outcomes = new Array<RecipientOutcome>(n);
  const alertDeny = alertDenial(alert, compiled, nowMs);
  if (alertDeny !== null) {
    for (let i = 0; i < n; i++) outcomes[i] = denied(compiled.codes[i]!, alertDeny.id);
  } else {
    const ctx = alertContext(alert, compiled, nowMs);
    const checks = ctx.checks;
    const k = checks.length;
    for (let i = 0; i < n; i++) {
      let deny: RecipientDenyRuleId | null = null;
      for (let j = 0; j < k; j++) {
        if (checks[j]!.denies(ctx, i)) {
          deny = checks[j]!.id;
          break;
        }
      }
      outcomes[i] = deny === null ? admitted(ctx, i) : denied(compiled.codes[i]!, deny);
    }
  }
  return {
    alertId: alert.alertId,
    alertVersion: alert.version,
    policyVersion: compiled.policyVersion,
    registryVersion: compiled.registryVersion,
    decidedAt: now,
    outcomes,
  };
}

export function alertDenial(alert: Alert, c: CompiledPolicy, nowMs: number): AlertCheck | null {
  for (const check of ALERT_CHECKS) if (check.denies(alert, c, nowMs)) return check;
  return null;
}

export function alertContext(alert: Alert, c: CompiledPolicy, nowMs: number): AlertContext {
  const marks = new Uint8Array(c.size);
  for (const code of alert.neverTo) {
    const i = c.indexByCode.get(code) ?? c.indexByFoldedCode.get(foldCode(code));
    if (i !== undefined) marks[i]! |= NEVER_TO;
  }
  markCodes(marks, alert.releasableTo, RELEASABLE_TO, c);
  markCodes(marks, alert.addressing.agencies, EXPLICIT, c);
  markCodes(marks, alert.consentedThirdCountries, CONSENTED, c);
  for (const country of alert.doNotActOn) {
    const indices = c.indicesByCountry.get(country);
    if (indices) for (const i of indices) marks[i]! |= DO_NOT_ACT_ON;
  }
  const mode = alert.addressing.mode === 'ALL' ? MODE_ALL : alert.addressing.mode === 'REGIONS' ? MODE_REGIONS : MODE_EXPLICIT;
  let regionMask = 0;
  for (const region of alert.addressing.regions) regionMask |= 1 << REGIONS.indexOf(region);

  const senderIdx = c.indexByCode.get(alert.sender) ?? -1;
  const originatorInArea = senderIdx >= 0 && c.inArea[senderIdx] === 1;
  const newMember = c.newMember;
  const subject = alert.subject;
  let groupsPresent = 0;
  if (subject !== null) {
    if (subject.biometrics !== null) groupsPresent |= GROUP_BIT.BIOMETRICS;
    if (subject.identityDocuments.length > 0) groupsPresent |= GROUP_BIT.IDENTITY_DOCUMENTS;
    if (subject.victim !== null) groupsPresent |= GROUP_BIT.VICTIM_DETAILS;
  }
  const purposes = purposeMask(alert.purposes);
  const tlpNoReshare = alert.tlp === 'RED' || alert.tlp === 'AMBER_STRICT';
  const handlingNoReshare = alert.handlingCode === 'H2' || alert.handlingCode === 'H3';
  const checks: RecipientCheck[] = [];
  const ctx: AlertContext = {
    alert,
    c,
    nowMs,
    marks,
    senderIdx,
    mode,
    regionMask,
    exerciseMask: isExerciseTraffic(alert) ? (c.exercises.get(alert.exerciseId ?? '') ?? null) : null,
    newMemberApplies: newMember !== null && newMember.scopes.has(alert.scope) && !newMember.exempt.has(alert.noticeType),
    sentMs: alert.sent.getTime(),
    transferApplies: c.transferRule !== null && originatorInArea,
    capitalApplies: alert.capitalOffence && c.capitalRule !== null,
    assured: c.assurances.get(alert.sender) ?? null,
    purposes,
    // An alert that states no purpose cannot show it is outside a hold's purposes: held.
    hold:
      c.reviewHolds.find(
        (h) => h.noticeTypes.has(alert.noticeType) && (h.purposes === 0 || purposes === 0 || (h.purposes & purposes) !== 0),
      ) ?? null,
    groupsPresent,
    originatorInArea,
    victimApplies: subject?.victim != null && c.victimCategories.has(subject.victim.category),
    baseFlags: c.flags.handling[alert.handlingCode],
    tlpNoReshare,
    handlingNoReshare,
    permitId: mode === MODE_ALL ? RULE_IDS.addressingAll : mode === MODE_REGIONS ? RULE_IDS.addressingRegions : RULE_IDS.addressingExplicit,
    checks,
    obligations: new Map(),
  };
  for (const check of RECIPIENT_CHECKS) if (check.active(ctx)) checks.push(check);
  return ctx;
}

/** An alert value the engine cannot place (outside the schema's enums), refused rather than read as "no restriction". */
export class AlertValueError extends TypeError {
  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`decide: alert ${field} ${JSON.stringify(value)} is not a value of the alert schema`);
    this.name = 'AlertValueError';
  }
}

const ENUM_FIELDS: readonly (readonly [string, (alert: Alert) => readonly unknown[], ReadonlySet<unknown>])[] = [
  ['status', (a) => [a.status], new Set(STATUSES)],
  ['msgType', (a) => [a.msgType], new Set(MSG_TYPES)],
  ['scope', (a) => [a.scope], new Set(SCOPES)],
  ['noticeType', (a) => [a.noticeType], new Set(NOTICE_TYPES)],
  ['purposes', (a) => a.purposes, new Set(PURPOSES)],
  ['tlp', (a) => [a.tlp], new Set(TLPS)],
  ['handlingCode', (a) => [a.handlingCode], new Set(HANDLING_CODES)],
  ['senderRegion', (a) => [a.senderRegion], new Set(REGIONS)],
  ['addressing.mode', (a) => [a.addressing.mode], new Set(ADDRESSING_MODES)],
  ['addressing.regions', (a) => a.addressing.regions, new Set(REGIONS)],
  ['subject.victim.category', (a) => (a.subject?.victim ? [a.subject.victim.category] : []), new Set(VICTIM_CATEGORIES)],
];

/**
 * Alerts decoded from Avro always pass; an alert built in code may not (a lower-case TLP would
 * otherwise match no restriction). Every enum the engine branches on is checked.
 */
export function assertAlertInSchema(alert: Alert): void {
  for (const [field, values, allowed] of ENUM_FIELDS) {
    for (const value of values(alert)) if (!allowed.has(value)) throw new AlertValueError(field, value);
  }
  if (!(alert.sent instanceof Date) || Number.isNaN(alert.sent.getTime())) throw new AlertValueError('sent', alert.sent);
  if (alert.expires !== null && (!(alert.expires instanceof Date) || Number.isNaN(alert.expires.getTime()))) {
    throw new AlertValueError('expires', alert.expires);
  }
}

function markCodes(marks: Uint8Array, codes: readonly string[], bit: number, c: CompiledPolicy): void {
  for (const code of codes) {
    const i = c.indexByCode.get(code);
    if (i !== undefined) marks[i]! |= bit;
  }
}

/** Redaction mask (GROUP_BIT) for an admitted recipient. */
export function redactionMask(ctx: AlertContext, i: number): number {
  const c = ctx.c;
  let mask = c.redactAny[i]!;
  if (ctx.originatorInArea) mask |= c.redactArea[i]!;
  if (ctx.victimApplies) mask |= c.victimRedact[i]!;
  return mask & ctx.groupsPresent;
}

export function capitalAssured(ctx: AlertContext, i: number): boolean {
  return ctx.capitalApplies && ctx.c.capitalStatus[i] === 1 && ctx.assured !== null && ctx.assured[i] === 1;
}

function admitted(ctx: AlertContext, i: number): RecipientOutcome {
  const mask = redactionMask(ctx, i);
  const doNotAct = listed(ctx, i, DO_NOT_ACT_ON);
  const assured = capitalAssured(ctx, i);
  // Recipients share their obligation arrays: an alert has at most 2^(groups+2) distinct
  // combinations, and building fresh arrays per recipient was most of the cost at 2,000 agencies.
  const key = (mask << 2) | (doNotAct ? 2 : 0) | (assured ? 1 : 0);
  let obligations = ctx.obligations.get(key);
  if (obligations === undefined) {
    const executionFlags = ctx.baseFlags.slice();
    if (doNotAct) pushAll(executionFlags, ctx.c.flags.doNotActOn);
    if (assured) pushAll(executionFlags, ctx.c.flags.capitalAssurance);
    obligations = {
      redactedGroups: mask === 0 ? EMPTY_GROUPS : Object.freeze(groupsOf(mask)),
      executionFlags: Object.freeze(executionFlags),
    };
    ctx.obligations.set(key, obligations);
  }
  const { redactedGroups, executionFlags } = obligations;
  const noReshare = ctx.tlpNoReshare || ctx.handlingNoReshare;
  const withObligations = redactedGroups.length > 0 || executionFlags.length > 0 || noReshare;
  return {
    agency: ctx.c.codes[i]!,
    outcome: ctx.hold !== null ? 'HOLD' : withObligations ? 'ALLOW_WITH_OBLIGATIONS' : 'ALLOW',
    ruleId: ctx.hold !== null ? RULE_IDS.reviewHold : ctx.permitId,
    redactedGroups,
    executionFlags,
    noReshare,
  };
}

function pushAll(target: string[], items: readonly string[]): void {
  for (const item of items) if (!target.includes(item)) target.push(item);
}

// Frozen so that sharing them between outcomes can never leak one recipient's change to another.
const EMPTY_GROUPS: readonly FieldGroup[] = Object.freeze([]);
const EMPTY_FLAGS: readonly string[] = Object.freeze([]);

function denied(agency: string, ruleId: DecidingRuleId): RecipientOutcome {
  return { agency, outcome: 'DENY', ruleId, redactedGroups: EMPTY_GROUPS, executionFlags: EMPTY_FLAGS, noReshare: false };
}

export function groupsOf(mask: number): FieldGroup[] {
  const groups: FieldGroup[] = [];
  for (const group of FIELD_GROUPS) if ((mask & GROUP_BIT[group]) !== 0) groups.push(group);
  return groups;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
