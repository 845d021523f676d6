import { randomUUID } from 'node:crypto';
import type { Alert, Delivery, FieldGroup, RecipientDecision } from '@backbone/codec';
import { FIELD_GROUPS } from '@backbone/codec';
import { auditEvent, type TopicNames } from '@backbone/kafka';
import { GATE_RULE_IDS } from '@backbone/policy';
import type { GateCodecs, OutboundMessage, RecipientRow } from './batch.assembler.js';
import type { GateOutcome, GatePolicy } from './gate-policy.port.js';

// The pure part of releasing held alerts: which held agencies may be released now, and the
// feed deliveries and DECIDED audit event that the release writes in one Kafka transaction.
// hold.releaser.ts does the PostgreSQL locking and the Kafka transaction.

/** The rule id written on a released delivery and in the release's DECIDED event. */
export const RELEASE_RULE_ID = GATE_RULE_IDS.reviewReleased;

/** The alert has expired since it was held: nothing may be released any more. */
export class HoldExpiredError extends Error {
  override readonly name = 'HoldExpiredError';
  constructor(
    readonly alertId: string,
    readonly expires: Date,
  ) {
    super(`alert ${alertId} expired at ${expires.toISOString()}; its holds can no longer be released`);
  }
}

/**
 * A newer version of the alert (an Update or Cancel) has been decided since this one was held:
 * releasing the held version now would hand an agency a superseded alert.
 */
export class HoldSupersededError extends Error {
  override readonly name = 'HoldSupersededError';
  constructor(
    readonly alertId: string,
    readonly version: number,
    readonly newerVersion: number,
  ) {
    super(`alert ${alertId} version ${version} is superseded by version ${newerVersion}; its holds can no longer be released`);
  }
}

/** One pending hold of one agency for one alert version. */
export interface PendingHold {
  readonly agency: string;
  readonly ruleId: string;
}

export interface ReleaseInput {
  /** The held alert version, as originally submitted (unredacted). */
  readonly alert: Alert;
  /** The still-pending holds of that version. */
  readonly holds: readonly PendingHold[];
  /** The outcomes the gate stored when it held the alert (the hold's obligations). */
  readonly storedOutcomes: readonly GateOutcome[];
  /** The highest alert version the gate has stored a decision for (any msgType); none: null. */
  readonly newestDecidedVersion?: number | null;
  /** Agencies the reviewer asked to release; null: every pending hold of the version. */
  readonly requested: readonly string[] | null;
  readonly policy: GatePolicy;
  readonly now: Date;
  readonly releasedBy: string;
  readonly service: string;
  readonly topics: TopicNames;
  readonly codecs: GateCodecs;
}

export interface ReleasePlan {
  readonly alertId: string;
  readonly version: number;
  /** Agencies that get the alert now. */
  readonly released: string[];
  /** Held agencies the policy now denies for another reason: not delivered, still pending. */
  readonly denied: { agency: string; ruleId: string }[];
  /** Requested agencies without a pending hold for this version (never held, or already released). */
  readonly notPending: string[];
  /** Feed deliveries, then the DECIDED audit event; empty when nothing is released. */
  readonly messages: [string, OutboundMessage][];
  readonly recipients: RecipientRow[];
}

function union<T>(a: readonly T[], b: readonly T[]): T[] {
  return [...new Set([...a, ...b])];
}

/**
 * The obligations a released agency receives the alert under: those stored with the hold and
 * those the policy computes now, whichever is stricter (union of redactions and flags).
 */
export function releaseObligations(
  stored: GateOutcome | undefined,
  now: GateOutcome,
): GateOutcome & { outcome: 'ALLOW' | 'ALLOW_WITH_OBLIGATIONS' } {
  const groups = union(stored?.redactedGroups ?? [], now.redactedGroups);
  const redactedGroups = FIELD_GROUPS.filter((g) => groups.includes(g)) as FieldGroup[];
  const executionFlags = union(stored?.executionFlags ?? [], now.executionFlags);
  const noReshare = (stored?.noReshare ?? false) || now.noReshare;
  const obligated = redactedGroups.length > 0 || executionFlags.length > 0 || noReshare;
  return {
    agency: now.agency,
    outcome: obligated ? 'ALLOW_WITH_OBLIGATIONS' : 'ALLOW',
    ruleId: RELEASE_RULE_ID,
    redactedGroups,
    executionFlags,
    noReshare,
  };
}

/**
 * Re-checks the policy at release time and builds what the release writes. Throws
 * HoldExpiredError when the alert has expired, HoldSupersededError when a newer version of it
 * has been decided since. An agency the policy now denies (for any reason
 * other than the hold) is reported in `denied` and gets nothing.
 */
export function planRelease(input: ReleaseInput): ReleasePlan {
  const { alert, now } = input;
  if (alert.expires !== null && alert.expires.getTime() <= now.getTime()) throw new HoldExpiredError(alert.alertId, alert.expires);
  const newest = input.newestDecidedVersion ?? null;
  if (newest !== null && newest > alert.version) throw new HoldSupersededError(alert.alertId, alert.version, newest);
  const pending = new Map(input.holds.map((h) => [h.agency, h]));
  const targets = input.requested === null ? [...pending.keys()] : [...new Set(input.requested)];
  const notPending = targets.filter((a) => !pending.has(a));
  const decision = input.policy.decide(alert, now);
  const nowByAgency = new Map(decision.outcomes.map((o) => [o.agency, o]));
  const storedByAgency = new Map(input.storedOutcomes.map((o) => [o.agency, o]));

  const released: string[] = [];
  const denied: { agency: string; ruleId: string }[] = [];
  const messages: [string, OutboundMessage][] = [];
  const recipients: RecipientRow[] = [];
  const decisions: RecipientDecision[] = [];
  const heldRules = new Set<string>();
  for (const agency of targets.filter((a) => pending.has(a)).sort()) {
    const current = nowByAgency.get(agency);
    if (current === undefined) {
      // Left the registry since: its feed and principal are revoked.
      denied.push({ agency, ruleId: GATE_RULE_IDS.registryUnknownAgency });
      continue;
    }
    if (current.outcome === 'DENY') {
      denied.push({ agency, ruleId: current.ruleId });
      continue;
    }
    const o = releaseObligations(storedByAgency.get(agency), current);
    const delivery: Delivery = {
      deliveryId: randomUUID(),
      recipient: agency,
      alertId: alert.alertId,
      alertVersion: alert.version,
      msgType: alert.msgType,
      decidedAt: now,
      policyVersion: decision.policyVersion,
      ruleId: RELEASE_RULE_ID,
      outcome: o.outcome,
      redactedGroups: [...o.redactedGroups],
      executionFlags: [...o.executionFlags],
      noReshare: o.noReshare,
      recall: false,
      replay: false,
      alert: input.codecs.encodeAlert(input.policy.redact(alert, o)),
    };
    messages.push([input.topics.feedFor(agency), { key: alert.alertId, value: input.codecs.encodeDelivery(delivery) }]);
    recipients.push({ alertId: alert.alertId, agency, version: alert.version, recall: false });
    decisions.push({
      agency,
      outcome: o.outcome,
      ruleId: RELEASE_RULE_ID,
      redactedGroups: [...o.redactedGroups],
      executionFlags: [...o.executionFlags],
    });
    heldRules.add(pending.get(agency)!.ruleId);
    released.push(agency);
  }
  if (released.length > 0) {
    const event = auditEvent('DECIDED', input.service, {
      occurredAt: now,
      actor: input.releasedBy,
      alertId: alert.alertId,
      alertVersion: alert.version,
      originator: alert.sender,
      noticeType: alert.noticeType,
      policyVersion: decision.policyVersion,
      decisions,
      details: {
        msgType: alert.msgType,
        releasedBy: input.releasedBy,
        heldRule: [...heldRules].sort().join(','),
        recipients: released.join(','),
        ...(denied.length > 0 ? { notReleased: denied.map((d) => `${d.agency}:${d.ruleId}`).join(',') } : {}),
      },
    });
    messages.push([input.topics.audit, { key: alert.alertId, value: input.codecs.encodeAudit(event) }]);
  }
  return { alertId: alert.alertId, version: alert.version, released, denied, notPending, messages, recipients };
}
