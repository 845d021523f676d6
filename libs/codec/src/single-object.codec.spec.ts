import { describe, expect, it } from '@jest/globals';
import { CodecError, deadLetterReasonFor, type CodecErrorReason } from './codec.error.js';
import type { AuditEvent } from './delivery.types.js';
import { alertCodec, auditEventCodec, codecFor, deadLetterCodec, deliveryCodec } from './record.codecs.js';
import { SchemaCatalog } from './schema.catalog.js';
import { isSingleObject } from './single-object.codec.js';
import {
  sampleAlert,
  sampleAuditEvent,
  sampleDeadLetter,
  sampleDelivery,
  sampleFullAlert,
  sampleSubject,
} from './testing/alert.fixture.js';

function codecErrorOf(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err;
    throw new Error(`expected a CodecError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a CodecError, nothing was thrown');
}

function expectReason(fn: () => unknown, reason: CodecErrorReason): CodecError {
  const err = codecErrorOf(fn);
  expect(err.reason).toBe(reason);
  return err;
}

describe('single-object encoding', () => {
  it('writes C3 01, the 8-byte CRC-64-AVRO of the writer schema, then the plain Avro body', () => {
    const alert = sampleAlert();
    const bytes = alertCodec.encode(alert);
    expect(bytes.subarray(0, 2).toString('hex')).toBe('c301');
    expect(bytes.subarray(2, 10).toString('hex')).toBe('57a08a5b23be629d');
    expect(alertCodec.fingerprint.toString('hex')).toBe('57a08a5b23be629d');
    expect(alertCodec.schemaVersion).toBe(1);
    const body = SchemaCatalog.default().latest('Alert').type.toBuffer(alert);
    expect(bytes.subarray(10).equals(body)).toBe(true);
    expect(isSingleObject(bytes)).toBe(true);
  });

  it('exposes the four records with their fingerprints', () => {
    expect(deliveryCodec.fingerprint.toString('hex')).toBe('37631b1c10fbc85d');
    // audit-event v2 (v1 + signature) is written; v1 stays readable.
    expect(auditEventCodec.fingerprint.toString('hex')).toBe('904d4a18fbcf4dc9');
    expect(codecFor('AuditEvent', { version: 1 }).fingerprint.toString('hex')).toBe('d24d6b9065c71eba');
    expect(deadLetterCodec.fingerprint.toString('hex')).toBe('181194678b486c34'); // v2 (UNSTORABLE, FORGED)
    expect(codecFor('Alert').fingerprint.equals(alertCodec.fingerprint)).toBe(true);
  });

  // Bytes that Java Avro 1.12.0's BinaryMessageDecoder decoded with the v1 schemas, and that
  // its BinaryMessageEncoder wrote back identically. If a fixture changes, re-verify and update.
  it('encodes sampleAlert() to the bytes Java Avro reads and writes', () => {
    expect(alertCodec.encode(sampleAlert()).toString('hex')).toBe(GOLDEN_SAMPLE_ALERT_HEX);
    expect(alertCodec.decode(Buffer.from(GOLDEN_SAMPLE_ALERT_HEX, 'hex'))).toEqual(sampleAlert());
  });

  it('encodes the largest safe long exactly, as Java Avro does', () => {
    const deadLetter = sampleDeadLetter({ sourceOffset: Number.MAX_SAFE_INTEGER });
    // The golden bytes were written with v1; v2 only added enum symbols, so the body is the same
    // and only the fingerprint in the header (bytes 2..10) differs.
    const v1Body = GOLDEN_DEAD_LETTER_HEX.slice(20);
    expect(deadLetterCodec.encode(deadLetter).toString('hex')).toBe(`c301${deadLetterCodec.fingerprint.toString('hex')}${v1Body}`);
    expect(deadLetterCodec.decode(Buffer.from(GOLDEN_DEAD_LETTER_HEX, 'hex'))).toEqual(deadLetter);
  });

  describe('round trips', () => {
    it('a minimal alert', () => {
      const alert = sampleAlert();
      expect(alertCodec.decode(alertCodec.encode(alert))).toEqual(alert);
    });

    it('an alert with every field group filled', () => {
      const alert = sampleFullAlert();
      const decoded = alertCodec.decode(alertCodec.encode(alert));
      expect(decoded).toEqual(alert);
      expect(decoded.sent).toBeInstanceOf(Date);
      expect(decoded.expires).toBeInstanceOf(Date);
      expect(decoded.subject?.biometrics?.fingerprintRefs).toHaveLength(2);
    });

    it('a subject with only nulls and empty lists', () => {
      const alert = sampleAlert({
        subject: sampleSubject({
          familyName: null,
          forenames: null,
          dateOfBirth: null,
          nationalities: [],
          sex: null,
          biometrics: null,
          identityDocuments: [],
          victim: null,
        }),
      });
      expect(alertCodec.decode(alertCodec.encode(alert))).toEqual(alert);
    });

    it('timestamps at the ends of the Date range and text beyond the BMP', () => {
      const alert = sampleAlert({
        sent: new Date(-8.64e15),
        expires: new Date(8.64e15),
        headline: 'Personne recherchée 🚨 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 中文',
      });
      expect(alertCodec.decode(alertCodec.encode(alert))).toEqual(alert);
    });

    it('a delivery carrying an encoded alert', () => {
      const delivery = sampleDelivery({
        alert: alertCodec.encode(sampleFullAlert()),
        outcome: 'ALLOW_WITH_OBLIGATIONS',
        redactedGroups: ['BIOMETRICS', 'VICTIM_DETAILS'],
        executionFlags: ['DO_NOT_ACT_ON_TERRITORY'],
        noReshare: true,
      });
      const decoded = deliveryCodec.decode(deliveryCodec.encode(delivery));
      expect(decoded).toEqual(delivery);
      expect(alertCodec.decode(decoded.alert)).toEqual(sampleFullAlert());
    });

    it('an audit event with decisions, details and a payload', () => {
      const event: AuditEvent = sampleAuditEvent({
        type: 'DECIDED',
        agency: 'DE-NCB',
        policyVersion: '2025.03.1',
        decisions: [
          { agency: 'DE-NCB', outcome: 'ALLOW', ruleId: 'community.default-allow', redactedGroups: [], executionFlags: [] },
          { agency: 'US-NCB', outcome: 'DENY', ruleId: 'capital-offence.no-assurance', redactedGroups: [], executionFlags: [] },
          {
            agency: 'MA-NCB',
            outcome: 'ALLOW_WITH_OBLIGATIONS',
            ruleId: 'victims.redact',
            redactedGroups: ['VICTIM_DETAILS'],
            executionFlags: ['X'],
          },
        ],
        details: { batch: '17', partition: '3' },
        payload: alertCodec.encode(sampleAlert()),
      });
      expect(auditEventCodec.decode(auditEventCodec.encode(event))).toEqual(event);
      const minimal = sampleAuditEvent({ actor: null, alertId: null, alertVersion: null, originator: null, noticeType: null });
      expect(auditEventCodec.decode(auditEventCodec.encode(minimal))).toEqual(minimal);
    });

    it('a dead letter, with and without key and value', () => {
      const full = sampleDeadLetter({ sourceOffset: Number.MAX_SAFE_INTEGER });
      expect(deadLetterCodec.decode(deadLetterCodec.encode(full))).toEqual(full);
      const empty = sampleDeadLetter({ key: null, value: null, reason: 'UNKNOWN_SCHEMA' });
      expect(deadLetterCodec.decode(deadLetterCodec.encode(empty))).toEqual(empty);
    });

    it('records larger than the initial scratch buffer', () => {
      const alert = sampleAlert({ description: 'x'.repeat(3 * 1024 * 1024) });
      expect(alertCodec.decode(alertCodec.encode(alert))).toEqual(alert);
      // And back to small ones after the scratch buffer was dropped.
      expect(alertCodec.decode(alertCodec.encode(sampleAlert()))).toEqual(sampleAlert());
    });
  });

  describe('decode errors', () => {
    const valid = alertCodec.encode(sampleFullAlert());

    it('BAD_MARKER for bytes without C3 01', () => {
      expectReason(() => alertCodec.decode(Buffer.from(JSON.stringify(sampleAlert()))), 'BAD_MARKER');
      expectReason(() => alertCodec.decode(Buffer.concat([Buffer.from([0xc3, 0x02]), valid.subarray(2)])), 'BAD_MARKER');
      expectReason(() => alertCodec.decode(Buffer.from([0x00])), 'BAD_MARKER');
      // Confluent wire format (magic 0, 4-byte schema id) is not single-object encoding.
      expectReason(() => alertCodec.decode(Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), valid.subarray(10)])), 'BAD_MARKER');
    });

    it('TRUNCATED for every proper prefix of a valid record', () => {
      for (let length = 0; length < valid.length; length++) {
        const err = expectReason(() => alertCodec.decode(valid.subarray(0, length)), 'TRUNCATED');
        expect(err.message).toMatch(/TRUNCATED/);
      }
    });

    it('TRAILING_BYTES when bytes follow the body', () => {
      expectReason(() => alertCodec.decode(Buffer.concat([valid, Buffer.from([0])])), 'TRAILING_BYTES');
    });

    it('UNKNOWN_FINGERPRINT for a writer schema not in the catalog', () => {
      const bytes = Buffer.from(valid);
      bytes.writeUInt32LE(0xdeadbeef, 2);
      const err = expectReason(() => alertCodec.decode(bytes), 'UNKNOWN_FINGERPRINT');
      expect(deadLetterReasonFor(err)).toBe('UNKNOWN_SCHEMA');
    });

    it('INCOMPATIBLE_SCHEMA for another record of the catalog', () => {
      const delivery = deliveryCodec.encode(sampleDelivery());
      const err = expectReason(() => alertCodec.decode(delivery), 'INCOMPATIBLE_SCHEMA');
      expect(err.message).toContain('org.backbone.feed.Delivery');
    });

    it('INVALID_BODY for an out-of-range enum or union index', () => {
      const alert = sampleAlert();
      const bytes = alertCodec.encode(alert);
      // Body: alertId (1 length byte + 36), version (1 byte), sender (1 + 6), then senderRegion.
      const senderRegionAt = 10 + 37 + 1 + 7;
      expect(bytes[senderRegionAt]).toBe(3 * 2); // EUROPE is symbol 3, zig-zag encoded.
      bytes[senderRegionAt] = 9 * 2;
      expectReason(() => alertCodec.decode(bytes), 'INVALID_BODY');
    });

    it('INVALID_BODY for a uuid field that is not a UUID', () => {
      const bytes = alertCodec.encode(sampleAlert());
      bytes.write('z', 11, 'latin1'); // First character of alertId.
      const err = expectReason(() => alertCodec.decode(bytes), 'INVALID_BODY');
      expect(err.message).toContain('not a UUID');
      expect(deadLetterReasonFor(err)).toBe('UNDECODABLE');
    });

    it('only CodecErrors, even for a non-Buffer', () => {
      expectReason(() => alertCodec.decode('c301' as unknown as Buffer), 'INVALID_BODY');
    });
  });

  describe('encode errors', () => {
    it('INVALID_VALUE naming the path of an invalid uuid', () => {
      const err = expectReason(() => alertCodec.encode(sampleAlert({ alertId: 'not-a-uuid' })), 'INVALID_VALUE');
      expect(err.message).toContain('alertId: expected uuid');
      expect(deadLetterReasonFor(err)).toBe('INVALID_RECORD');
    });

    it('names nested paths, and never echoes the value', () => {
      const secret = 'Victim hiding at 12 rue Example';
      const alert = sampleFullAlert({
        subject: sampleSubject({
          identityDocuments: [
            { kind: 'PASSPORT', number: '1', issuingCountry: 'FR' },
            { kind: 'VISA' as never, number: secret, issuingCountry: 'FR' },
          ],
        }),
      });
      const err = expectReason(() => alertCodec.encode(alert), 'INVALID_VALUE');
      expect(err.message).toContain('subject.identityDocuments[1].kind: expected one of PASSPORT|ID_CARD');
      expect(err.message).not.toContain('VISA');
      expect(err.message).not.toContain(secret);
    });

    it('rejects an invalid Date, a missing field, a non-integer int and a wrong nullable', () => {
      const bad = [
        [sampleAlert({ sent: new Date(Number.NaN) }), 'sent: expected timestamp-millis'],
        [{ ...sampleAlert(), headline: undefined } as never, 'headline: expected string, got nothing'],
        [sampleAlert({ informationAccuracy: 1.5 }), 'informationAccuracy: expected int'],
        [sampleAlert({ expires: 'tomorrow' as never }), 'expires: expected null or timestamp-millis'],
      ] as const;
      for (const [value, message] of bad) {
        expect(expectReason(() => alertCodec.encode(value), 'INVALID_VALUE').message).toContain(message);
      }
    });
  });
});

describe('deadLetterReasonFor', () => {
  it.each([
    ['BAD_MARKER', 'UNDECODABLE'],
    ['TRUNCATED', 'UNDECODABLE'],
    ['INVALID_BODY', 'UNDECODABLE'],
    ['TRAILING_BYTES', 'UNDECODABLE'],
    ['UNKNOWN_FINGERPRINT', 'UNKNOWN_SCHEMA'],
    ['INCOMPATIBLE_SCHEMA', 'UNKNOWN_SCHEMA'],
    ['INVALID_VALUE', 'INVALID_RECORD'],
  ] as const)('%s → %s', (reason, deadLetter) => {
    expect(deadLetterReasonFor(new CodecError(reason, 'x'))).toBe(deadLetter);
  });

  it('UNKNOWN for anything else', () => {
    expect(deadLetterReasonFor(new Error('boom'))).toBe('UNKNOWN');
    expect(deadLetterReasonFor('boom')).toBe('UNKNOWN');
  });
});

describe('isSingleObject', () => {
  it('needs the marker and a whole header', () => {
    expect(isSingleObject(Buffer.from('c301000000000000000000', 'hex'))).toBe(true);
    expect(isSingleObject(Buffer.from('c3010000000000000000', 'hex'))).toBe(true);
    expect(isSingleObject(Buffer.from('c30100000000000000', 'hex'))).toBe(false);
    expect(isSingleObject(Buffer.from('c302000000000000000000', 'hex'))).toBe(false);
    expect(isSingleObject(Buffer.alloc(0))).toBe(false);
  });
});

const GOLDEN_SAMPLE_ALERT_HEX =
  'c30157a08a5b23be629d4836663163326134652d386135622d346331642d396532662d306131623263336434653566020c46522d4e4342' +
  '06aaf6d2bfb2650000000002000200003057616e74656420666f722061726d656420726f62626572798c015375626a65637420697320' +
  '736f7567687420666f722070726f7365637574696f6e20666f722061726d656420726f626265727920636f6d6d697474656420696e20' +
  '4c796f6e2e020202040202040000000000000000001a536368656e67656e20617265610000';

const GOLDEN_DEAD_LETTER_HEX =
  'c3016b65fde3861e1c004861316232633364342d653566362d346137622d386339642d30653166326133623463356416706f6c696379' +
  '2d6761746520616c657274732e7375626d697474656406feffffffffffff1f024836663163326134652d386135622d346331642d3965' +
  '32662d30613162326333643465356602060001020014626164206d61726b6572d2f6d2bfb265';
