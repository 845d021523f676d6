// fast-check generators of the gate's and the ledger's records (schema-valid, loosely
// plausible). Test-only: it imports fast-check.
import fc from 'fast-check';
import { FIELD_GROUPS, MSG_TYPES } from '../alert.types.js';
import {
  AUDIT_EVENT_TYPES,
  DEAD_LETTER_REASONS,
  DECISION_OUTCOMES,
  type AuditEvent,
  type DeadLetter,
  type Delivery,
} from '../delivery.types.js';
import { SAMPLE_AGENCIES } from './alert.arbitrary.js';

const agency = fc.constantFrom(...SAMPLE_AGENCIES.map((a) => a.code));
const text = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength });
const anyDate = fc.date({ noInvalidDate: true });
const bytes = (maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });

export function deliveryArbitrary(): fc.Arbitrary<Delivery> {
  return fc.record({
    deliveryId: fc.uuid(),
    recipient: agency,
    alertId: fc.uuid(),
    alertVersion: fc.integer({ min: 1, max: 1000 }),
    msgType: fc.constantFrom(...MSG_TYPES),
    decidedAt: anyDate,
    policyVersion: text(20),
    ruleId: text(40),
    outcome: fc.constantFrom('ALLOW' as const, 'ALLOW_WITH_OBLIGATIONS' as const),
    redactedGroups: fc.uniqueArray(fc.constantFrom(...FIELD_GROUPS)),
    executionFlags: fc.array(text(30), { maxLength: 3 }),
    noReshare: fc.boolean(),
    recall: fc.boolean(),
    replay: fc.boolean(),
    alert: bytes(200),
  });
}

export function auditEventArbitrary(): fc.Arbitrary<AuditEvent> {
  const optionalText = (n: number) => fc.option(text(n), { nil: null });
  return fc.record({
    eventId: fc.uuid(),
    type: fc.constantFrom(...AUDIT_EVENT_TYPES),
    occurredAt: anyDate,
    service: text(20),
    actor: optionalText(20),
    alertId: fc.option(fc.uuid(), { nil: null }),
    alertVersion: fc.option(int32, { nil: null }),
    originator: optionalText(10),
    noticeType: optionalText(10),
    agency: optionalText(10),
    policyVersion: optionalText(20),
    decisions: fc.array(
      fc.record({
        agency,
        outcome: fc.constantFrom(...DECISION_OUTCOMES),
        ruleId: text(40),
        redactedGroups: fc.array(text(20), { maxLength: 3 }),
        executionFlags: fc.array(text(20), { maxLength: 3 }),
      }),
      { maxLength: 5 },
    ),
    reason: optionalText(40),
    details: fc.dictionary(text(12), text(40), { maxKeys: 5 }),
    payload: fc.option(bytes(200), { nil: null }),
    signature: fc.option(fc.record({ signer: text(30), keyId: text(16), value: bytes(64) }), { nil: null }),
  });
}

export function deadLetterArbitrary(): fc.Arbitrary<DeadLetter> {
  return fc.record({
    deadLetterId: fc.uuid(),
    service: text(20),
    sourceTopic: text(40),
    sourcePartition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    sourceOffset: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    key: fc.option(bytes(64), { nil: null }),
    value: fc.option(bytes(400), { nil: null }),
    reason: fc.constantFrom(...DEAD_LETTER_REASONS),
    detail: text(200),
    failedAt: anyDate,
  });
}
