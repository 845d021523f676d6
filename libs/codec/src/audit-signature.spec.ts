import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  auditSignatureProblem,
  auditSigningBytes,
  auditSigningForm,
  eventKeyId,
  eventKeyringOf,
  signAuditEvent,
  type EventSigningKey,
} from './audit-signature.js';
import { canonicalJson } from './canonical-json.js';
import type { AuditEvent } from './delivery.types.js';
import { auditEventCodec } from './record.codecs.js';
import { sampleAuditEvent } from './testing/alert.fixture.js';
import { canonicalDecisionArbitrary, looseAuditEventArbitrary } from './testing/canonical.arbitrary.js';

function keyFor(signer: string): { key: EventSigningKey; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    key: { signer, keyId: eventKeyId(publicKey), privateKey },
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const gate = keyFor('policy-gate');
const other = keyFor('subscriber-FR-NCB');
const keyring = eventKeyringOf([
  { signer: 'policy-gate', publicKey: gate.publicKey },
  { signer: 'subscriber-FR-NCB', publicKey: other.publicKey },
]);
const event = sampleAuditEvent({ type: 'DECIDED', service: 'policy-gate', details: { b: '2', a: '1' }, payload: Buffer.from('x') });

describe('audit event signatures', () => {
  it('verifies a signed event, also after an Avro round trip', () => {
    const signed = signAuditEvent(event, gate.key);
    expect(auditSignatureProblem(signed, keyring)).toBeNull();
    expect(auditSignatureProblem(auditEventCodec.decode(auditEventCodec.encode(signed)), keyring)).toBeNull();
    expect(event.signature).toBeNull();
  });

  it('does not depend on the order of details keys', () => {
    const signed = signAuditEvent(event, gate.key);
    expect(auditSignatureProblem({ ...signed, details: { a: '1', b: '2' } }, keyring)).toBeNull();
  });

  it.each<[string, (s: ReturnType<typeof signAuditEvent>) => ReturnType<typeof signAuditEvent>, RegExp]>([
    ['unsigned', (s) => ({ ...s, signature: null }), /^unsigned$/],
    ['an unknown signer', (s) => ({ ...s, signature: { ...s.signature!, signer: 'mallory' } }), /unknown signer "mallory"/],
    ['another signer named with this key', (s) => ({ ...s, signature: { ...s.signature!, signer: 'subscriber-FR-NCB' } }), /unknown key/],
    ['a changed field', (s) => ({ ...s, agency: 'DE-NCB' }), /does not match/],
    [
      'a changed decision',
      (s) => ({ ...s, decisions: [{ agency: 'DE-NCB', outcome: 'ALLOW', ruleId: 'x', redactedGroups: [], executionFlags: [] }] }),
      /does not match/,
    ],
    ['a changed payload', (s) => ({ ...s, payload: Buffer.from('y') }), /does not match/],
    [
      'a truncated signature',
      (s) => ({ ...s, signature: { ...s.signature!, value: s.signature!.value.subarray(0, 10) } }),
      /does not match/,
    ],
  ])('refuses %s', (_label, tamper, why) => {
    expect(auditSignatureProblem(tamper(signAuditEvent(event, gate.key)), keyring)).toMatch(why);
  });

  it("naming another signer's key id does not borrow its trust", () => {
    const signedByOther = signAuditEvent(event, { ...other.key, signer: 'policy-gate', keyId: gate.key.keyId });
    expect(auditSignatureProblem(signedByOther, keyring)).toMatch(/does not match/);
  });

  it('signs the bytes of the generic canonical form, whatever the event holds (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 8 });
    const decision = canonicalDecisionArbitrary(text);
    const oddDecision = fc.oneof(
      decision,
      fc.constant(null),
      fc.record({ agency: fc.integer(), outcome: text, ruleId: text, redactedGroups: fc.constant([]), executionFlags: fc.constant([]) }),
    );
    const event = looseAuditEventArbitrary({
      text,
      time: fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
      decisions: fc.oneof(fc.array(decision, { maxLength: 4 }), fc.array(oddDecision, { maxLength: 3 })),
      signature: fc.constant(null),
    });
    fc.assert(
      fc.property(event, (e) => {
        const ev = e as unknown as AuditEvent;
        let generic: string | Error;
        try {
          generic = canonicalJson(auditSigningForm(ev));
        } catch (err) {
          generic = err as Error;
        }
        if (generic instanceof Error) expect(() => auditSigningBytes(ev)).toThrow(generic.message);
        else expect(auditSigningBytes(ev).toString('utf8')).toBe(generic);
      }),
      { numRuns: 500 },
    );
  });
});
