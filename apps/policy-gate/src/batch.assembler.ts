import { randomUUID } from 'node:crypto';
import type { Alert, AuditEvent, DeadLetter, DeadLetterReason, Delivery, FieldGroup, RecipientDecision } from '@backbone/codec';
import { FIELD_GROUPS } from '@backbone/codec';
import { auditEvent, deadLetterFor, type FailedRecord, type TopicNames } from '@backbone/kafka';
import { GATE_RULE_IDS } from '@backbone/policy';
import type { BatchRows, DecisionRow, HoldRow, PastRecipient, RecipientRow } from '@backbone/gate-store';
import type { KafkaHeaders } from '@backbone/telemetry';
import type { GateDecision, GateOutcome, GatePolicy } from './gate-policy.port.js';

export type { DecisionRow, HoldRow, PastRecipient, RecipientRow };

// The pure heart of the gate: one consumed batch in, everything the batch must write out.
// No I/O, so the rules (who gets what, recall, holds, dead letters) are unit-tested without a
// broker; policy-gate.consumer.ts does the reading, the PostgreSQL and the Kafka transaction.

/** The rule id written on a recall delivery: policy would not send it now, history does. */
export const RECALL_RULE_ID = GATE_RULE_IDS.recallPastRecipient;

export interface InboundRecord extends FailedRecord {
  readonly timestamp?: string;
  /** The record's Kafka headers (the publisher's W3C trace context among them). */
  readonly headers?: KafkaHeaders;
}

/** A consumed record after decoding: the alert, or why it is poison. */
export type DecodedRecord =
  | { readonly record: InboundRecord; readonly alert: Alert }
  | { readonly record: InboundRecord; readonly failure: { reason: DeadLetterReason; detail: string } };

export interface GateCodecs {
  encodeAlert(alert: Alert): Buffer;
  encodeDelivery(delivery: Delivery): Buffer;
  encodeAudit(event: AuditEvent): Buffer;
  encodeDeadLetter(deadLetter: DeadLetter): Buffer;
}

export interface OutboundMessage {
  readonly key: string | Buffer | null;
  readonly value: Buffer;
}

/** An agency that has received some version of an alert, as PostgreSQL remembers it. */
export interface BatchStats {
  alerts: number;
  deliveries: number;
  recalls: number;
  holds: number;
  deadLetters: number;
}

export interface AssembledBatch extends BatchRows {
  /** topic → messages, in consumption order within each topic. */
  readonly messages: Map<string, OutboundMessage[]>;
  readonly recipients: RecipientRow[];
  readonly decisions: DecisionRow[];
  readonly holds: HoldRow[];
  readonly stats: BatchStats;
}

export interface AssemblyContext {
  readonly service: string;
  readonly topics: TopicNames;
  readonly policy: GatePolicy;
  readonly codecs: GateCodecs;
  readonly now: Date;
  /** alertId → agencies that received some version (from PostgreSQL, before this batch). */
  readonly pastRecipients: ReadonlyMap<string, readonly PastRecipient[]>;
}

/** Alert ids of the decodable records, to load their delivery history in one query. */
export function alertIdsOf(records: readonly DecodedRecord[]): string[] {
  const ids = new Set<string>();
  for (const r of records) if ('alert' in r) ids.add(r.alert.alertId);
  return [...ids];
}

/** Cheap checks the Avro schema cannot express; a failure dead-letters the record as INVALID_RECORD. */
export function validationProblem(alert: Alert): string | null {
  if (!Number.isInteger(alert.version) || alert.version < 1) return `version must be >= 1, got ${alert.version}`;
  if (alert.msgType !== 'Alert' && alert.version < 2) return `${alert.msgType} must have version >= 2, got ${alert.version}`;
  return null;
}

export function assembleBatch(records: readonly DecodedRecord[], ctx: AssemblyContext): AssembledBatch {
  const out: AssembledBatch = {
    messages: new Map(),
    recipients: [],
    decisions: [],
    holds: [],
    stats: { alerts: 0, deliveries: 0, recalls: 0, holds: 0, deadLetters: 0 },
  };
  const push = (topic: string, message: OutboundMessage): void => {
    let list = out.messages.get(topic);
    if (!list) out.messages.set(topic, (list = []));
    list.push(message);
  };
  // History grows as the batch goes: an Update right behind its Alert in the same batch must
  // reach the Alert's recipients too.
  const history = new Map<string, PastRecipient[]>();
  /** alertId → agencies in `history`, so adding a batch's recipients is O(1) per recipient. */
  const historyAgencies = new Map<string, Set<string>>();
  for (const [id, list] of ctx.pastRecipients) history.set(id, [...list]);

  const deadLetter = (record: InboundRecord, reason: DeadLetterReason, detail: string): void => {
    const dl = deadLetterFor(ctx.service, record, reason, detail);
    push(ctx.topics.deadLetter, { key: record.key, value: ctx.codecs.encodeDeadLetter(dl) });
    const event = auditEvent('DEAD_LETTERED', ctx.service, {
      occurredAt: ctx.now,
      reason,
      details: {
        deadLetterId: dl.deadLetterId,
        sourceTopic: record.topic,
        sourcePartition: String(record.partition),
        sourceOffset: record.offset,
        detail: dl.detail,
      },
    });
    push(ctx.topics.audit, { key: record.key, value: ctx.codecs.encodeAudit(event) });
    out.stats.deadLetters++;
  };

  for (const entry of records) {
    if ('failure' in entry) {
      deadLetter(entry.record, entry.failure.reason, entry.failure.detail);
      continue;
    }
    const { alert, record } = entry;
    const problem = validationProblem(alert);
    if (problem !== null) {
      deadLetter(record, 'INVALID_RECORD', problem);
      continue;
    }
    // Everything for one alert is built into local buffers first, so a policy or encoding
    // failure half-way dead-letters the record without leaving half its deliveries behind.
    let built: ReturnType<typeof buildAlert>;
    try {
      built = buildAlert(alert, ctx, history.get(alert.alertId) ?? []);
    } catch (err) {
      deadLetter(record, 'POLICY_ERROR', err instanceof Error ? err.message : String(err));
      continue;
    }
    for (const [topic, message] of built.messages) push(topic, message);
    out.recipients.push(...built.recipients);
    out.decisions.push(built.decision);
    out.holds.push(...built.holds);
    out.stats.alerts++;
    out.stats.deliveries += built.recipients.length;
    out.stats.recalls += built.decision.recalled.length;
    out.stats.holds += built.holds.length;
    const known = history.get(alert.alertId) ?? [];
    let agencies = historyAgencies.get(alert.alertId);
    if (!agencies) historyAgencies.set(alert.alertId, (agencies = new Set(known.map((k) => k.agency))));
    for (const r of built.recipients) {
      if (agencies.has(r.agency)) continue;
      agencies.add(r.agency);
      known.push({ agency: r.agency, firstVersion: r.version });
    }
    history.set(alert.alertId, known);
  }
  return out;
}

function buildAlert(
  alert: Alert,
  ctx: AssemblyContext,
  past: readonly PastRecipient[],
): { messages: [string, OutboundMessage][]; recipients: RecipientRow[]; decision: DecisionRow; holds: HoldRow[] } {
  const decision: GateDecision = ctx.policy.decide(alert, ctx.now);
  const original = ctx.codecs.encodeAlert(alert);
  const messages: [string, OutboundMessage][] = [];
  const recipients: RecipientRow[] = [];
  const holds: HoldRow[] = [];
  const recalled: string[] = [];
  // Recall applies to Updates and Cancels: every agency that received an earlier version.
  const pastAgencies = new Set(alert.msgType === 'Alert' ? [] : past.filter((p) => p.firstVersion < alert.version).map((p) => p.agency));
  const seen = new Set<string>();
  // Recipients with the same redacted groups get the same copy: it is built and encoded once
  // per distinct group set of this alert, not once per recipient. Every copy (recalls too) goes
  // through the policy's redact, which also empties the originator's neverTo and
  // consentedThirdCountries lists.
  const copies = new Map<string, Buffer>();
  const encodedCopy = (obligations: GateOutcome): Buffer => {
    const key = [...obligations.redactedGroups].sort().join(',');
    let bytes = copies.get(key);
    if (bytes === undefined) {
      copies.set(key, (bytes = ctx.codecs.encodeAlert(ctx.policy.redact(alert, obligations))));
    }
    return bytes;
  };
  let recallGroups: readonly FieldGroup[] | undefined;

  const deliver = (outcome: GateOutcome, recall: boolean): void => {
    const groups: readonly FieldGroup[] = recall ? (recallGroups ??= presentGroups(alert)) : outcome.redactedGroups;
    const delivery: Delivery = {
      deliveryId: randomUUID(),
      recipient: outcome.agency,
      alertId: alert.alertId,
      alertVersion: alert.version,
      msgType: alert.msgType,
      decidedAt: ctx.now,
      policyVersion: decision.policyVersion,
      ruleId: recall ? RECALL_RULE_ID : outcome.ruleId,
      outcome: recall || groups.length > 0 || outcome.outcome === 'ALLOW_WITH_OBLIGATIONS' ? 'ALLOW_WITH_OBLIGATIONS' : 'ALLOW',
      redactedGroups: [...groups],
      executionFlags: [...outcome.executionFlags],
      noReshare: recall ? true : outcome.noReshare,
      recall,
      replay: false,
      // A recall copy is redacted as an obligated delivery with every present group removed.
      alert: encodedCopy(recall ? { ...outcome, outcome: 'ALLOW_WITH_OBLIGATIONS', redactedGroups: groups } : outcome),
    };
    messages.push([ctx.topics.feedFor(outcome.agency), { key: alert.alertId, value: ctx.codecs.encodeDelivery(delivery) }]);
    recipients.push({ alertId: alert.alertId, agency: outcome.agency, version: alert.version, recall });
  };

  for (const outcome of decision.outcomes) {
    seen.add(outcome.agency);
    if (outcome.outcome === 'ALLOW' || outcome.outcome === 'ALLOW_WITH_OBLIGATIONS') {
      deliver(outcome, false);
    } else if (pastAgencies.has(outcome.agency)) {
      // A past recipient must learn of the update or cancel even when policy would now deny
      // or hold it: leaving it with a stale (or cancelled) alert is the greater harm.
      deliver(outcome, true);
      recalled.push(outcome.agency);
    } else if (outcome.outcome === 'HOLD') {
      holds.push({
        alertId: alert.alertId,
        version: alert.version,
        agency: outcome.agency,
        ruleId: outcome.ruleId,
        policyVersion: decision.policyVersion,
        heldAt: ctx.now,
        alert: original,
      });
    }
  }
  // A past recipient the registry no longer lists has left the backbone: its feed topic and
  // principal are revoked, so a write would fail the whole transaction again on every
  // redelivery and block the partition. It is named in the audit event instead.
  const departed = [...pastAgencies].filter((agency) => !seen.has(agency));

  const decisions: RecipientDecision[] = decision.outcomes.map((o) => ({
    agency: o.agency,
    outcome: o.outcome,
    ruleId: o.ruleId,
    redactedGroups: [...o.redactedGroups],
    executionFlags: [...o.executionFlags],
  }));
  const event = auditEvent('DECIDED', ctx.service, {
    occurredAt: ctx.now,
    alertId: alert.alertId,
    alertVersion: alert.version,
    originator: alert.sender,
    noticeType: alert.noticeType,
    policyVersion: decision.policyVersion,
    decisions,
    details: {
      msgType: alert.msgType,
      recipients: recipients.map((r) => r.agency).join(','),
      ...(recalled.length > 0 ? { recalled: recalled.join(',') } : {}),
      ...(holds.length > 0 ? { held: holds.map((h) => h.agency).join(',') } : {}),
      ...(departed.length > 0 ? { recallUndeliverable: departed.join(',') } : {}),
    },
  });
  messages.push([ctx.topics.audit, { key: alert.alertId, value: ctx.codecs.encodeAudit(event) }]);

  return {
    messages,
    recipients,
    holds,
    decision: {
      alertId: alert.alertId,
      version: alert.version,
      msgType: alert.msgType,
      sender: alert.sender,
      policyVersion: decision.policyVersion,
      decidedAt: ctx.now,
      alert: original,
      outcomes: decision.outcomes,
      recalled,
    },
  };
}

/** The field groups this alert actually carries. */
function presentGroups(alert: Alert): FieldGroup[] {
  const s = alert.subject;
  if (s === null) return [];
  return FIELD_GROUPS.filter((g) =>
    g === 'BIOMETRICS' ? s.biometrics !== null : g === 'IDENTITY_DOCUMENTS' ? s.identityDocuments.length > 0 : s.victim !== null,
  );
}
