// fast-check generators for the canonical writers' property tests: audit events whose fields are
// arbitrary strings (not schema-valid), so the fast writers of the signed bytes and of the ledger's
// row hash are checked against the generic canonical form on whatever text they meet.
import fc from 'fast-check';

/** A decision of the gate's shape (the writers' fast path) over `text`. */
export function canonicalDecisionArbitrary(text: fc.Arbitrary<string>) {
  return fc.record({
    agency: text,
    outcome: text,
    ruleId: text,
    redactedGroups: fc.array(text, { maxLength: 3 }),
    executionFlags: fc.array(text, { maxLength: 3 }),
  });
}

/** An audit event's fields over `text`, with the given occurredAt, decisions and signature generators. */
export function looseAuditEventArbitrary<D, S>(opts: {
  text: fc.Arbitrary<string>;
  time: fc.Arbitrary<Date>;
  decisions: fc.Arbitrary<D>;
  signature: fc.Arbitrary<S>;
}) {
  const { text } = opts;
  const maybe = fc.option(text, { nil: null });
  return fc.record({
    eventId: text,
    type: text,
    occurredAt: opts.time,
    service: text,
    actor: maybe,
    alertId: maybe,
    alertVersion: fc.option(fc.integer(), { nil: null }),
    originator: maybe,
    noticeType: maybe,
    agency: maybe,
    policyVersion: maybe,
    decisions: opts.decisions,
    reason: maybe,
    details: fc.dictionary(text, text, { maxKeys: 4 }),
    payload: fc.option(
      fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
      { nil: null },
    ),
    signature: opts.signature,
  });
}
