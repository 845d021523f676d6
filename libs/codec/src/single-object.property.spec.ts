// Property tests: whatever bytes arrive, decode throws only CodecError; whatever valid record
// is written, it reads back exactly.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CodecError } from './codec.error.js';
import { alertCodec, auditEventCodec, deadLetterCodec, deliveryCodec } from './record.codecs.js';
import type { SingleObjectCodec } from './single-object.codec.js';
import { alertArbitrary } from './testing/alert.arbitrary.js';
import { sampleFullAlert } from './testing/alert.fixture.js';
import { auditEventArbitrary, deadLetterArbitrary, deliveryArbitrary } from './testing/delivery.arbitrary.js';

const codecs: ReadonlyArray<readonly [string, SingleObjectCodec<unknown>, fc.Arbitrary<unknown>]> = [
  ['Alert', alertCodec as SingleObjectCodec<unknown>, alertArbitrary()],
  ['Delivery', deliveryCodec as SingleObjectCodec<unknown>, deliveryArbitrary()],
  ['AuditEvent', auditEventCodec as SingleObjectCodec<unknown>, auditEventArbitrary()],
  ['DeadLetter', deadLetterCodec as SingleObjectCodec<unknown>, deadLetterArbitrary()],
];

/** Decodes, and fails the property on anything thrown that is not a CodecError. */
function decodeOrCodecError(codec: SingleObjectCodec<unknown>, bytes: Buffer): void {
  try {
    codec.decode(bytes);
  } catch (err) {
    if (!(err instanceof CodecError)) throw new Error(`threw ${String(err)} for ${bytes.toString('hex')}`, { cause: err });
  }
}

describe.each(codecs)('%s codec', (_name, codec, arbitrary) => {
  it('round-trips every valid record exactly', () => {
    fc.assert(
      fc.property(arbitrary, (value) => {
        const bytes = codec.encode(value);
        expect(codec.decode(bytes)).toEqual(value);
        // Deterministic: the same value always gives the same bytes (the audit chain hashes them).
        expect(codec.encode(value).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('throws only CodecError for any bytes at all', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => decodeOrCodecError(codec, Buffer.from(bytes))),
      { numRuns: 500 },
    );
  });

  it('throws only CodecError for any body behind its own header', () => {
    const header = codec.fingerprint;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) =>
        decodeOrCodecError(codec, Buffer.concat([Buffer.from([0xc3, 0x01]), header, body])),
      ),
      { numRuns: 2000 },
    );
  });

  it('throws only CodecError for valid records with bytes flipped, cut or inserted', () => {
    fc.assert(
      fc.property(
        arbitrary,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), {
          minLength: 1,
          maxLength: 4,
        }),
        (value, edits) => {
          let bytes = Buffer.from(codec.encode(value));
          for (const [at, byte, edit] of edits) {
            // Keep the header mostly intact so the edits reach the body.
            const i = 10 + (at % Math.max(1, bytes.length - 10));
            if (edit === 'flip') bytes[i] = byte;
            else if (edit === 'cut') bytes = bytes.subarray(0, i);
            else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
          }
          decodeOrCodecError(codec, bytes);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('the alert generator', () => {
  it('produces domain-plausible alerts', () => {
    fc.assert(
      fc.property(alertArbitrary(), (alert) => {
        expect(alert.exerciseId !== null).toBe(alert.status === 'Exercise');
        expect(alert.references.length > 0).toBe(alert.msgType !== 'Alert');
        expect(alert.informationAccuracy).toBeGreaterThanOrEqual(1);
        expect(alert.informationAccuracy).toBeLessThanOrEqual(4);
        if (alert.addressing.mode === 'EXPLICIT') expect(alert.addressing.agencies.length).toBeGreaterThan(0);
        if (alert.addressing.mode === 'REGIONS') expect(alert.addressing.regions.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it('honours its options', () => {
    const agencies = [{ code: 'ZZ-NCB', region: 'AFRICA' as const }];
    fc.assert(
      fc.property(alertArbitrary({ agencies, subject: 'always' }), (alert) => {
        expect(alert.sender).toBe('ZZ-NCB');
        expect(alert.senderRegion).toBe('AFRICA');
        expect(alert.subject).not.toBeNull();
      }),
      { numRuns: 50 },
    );
  });
});

it('a full alert survives every single-byte corruption with at most a CodecError', () => {
  const bytes = alertCodec.encode(sampleFullAlert());
  for (let i = 0; i < bytes.length; i++) {
    for (const value of [0x00, 0x7f, 0x80, 0xff]) {
      const copy = Buffer.from(bytes);
      copy[i] = value;
      decodeOrCodecError(alertCodec as SingleObjectCodec<unknown>, copy);
    }
  }
});
