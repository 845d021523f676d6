import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { canonicalDecisionArbitrary, looseAuditEventArbitrary, sampleAuditEvent } from '@backbone/codec/testing';
import fc from 'fast-check';
import type { AuditEvent } from '@backbone/codec';
import { canonicalBytes, canonicalForm, canonicalJson, type LedgerEntry } from './canonical-event.serializer.js';
import { chainEntries, chainHash, entryHash, GENESIS_HASH } from './hash-chain.js';
import { generateSigningKey, signCheckpoint, verifyCheckpoint } from './checkpoint-signer.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function entry(seq: number, overrides: Parameters<typeof sampleAuditEvent>[0] = {}): LedgerEntry {
  return {
    seq: String(seq),
    topic: 'audit.events',
    partition: 0,
    offset: String(seq + 100),
    recordedAt: new Date('2025-03-14T10:00:00.000Z'),
    event: sampleAuditEvent(overrides),
  };
}

describe('canonical form v1', () => {
  it('the fast writer of well-typed rows gives exactly the bytes of the generic canonical form', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const time = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms));
    const event = looseAuditEventArbitrary({
      text,
      time,
      decisions: fc.array(canonicalDecisionArbitrary(text), { maxLength: 4 }),
      signature: fc.option(fc.record({ signer: text, keyId: text, value: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)) }), {
        nil: null,
      }),
    });
    fc.assert(
      fc.property(event, fc.bigInt({ min: 1n, max: 2n ** 62n }), fc.nat(), time, (e, seq, partition, recordedAt) => {
        const entry: LedgerEntry = {
          seq: seq.toString(),
          topic: 'audit.events',
          partition,
          offset: (seq + 7n).toString(),
          recordedAt,
          event: e as unknown as AuditEvent,
        };
        expect(canonicalBytes(entry).toString('utf8')).toBe(canonicalJson(canonicalForm(entry)));
      }),
      { numRuns: 300 },
    );
  });

  it('a row of unexpected shape (a tampered jsonb column) still hashes by the generic form', () => {
    const e = entry(1);
    const tampered = [{ agency: { b: 1, a: 2 }, outcome: 'ALLOW', ruleId: 'r', redactedGroups: [], executionFlags: [] }];
    const odd = { ...e, event: { ...e.event, decisions: tampered as unknown as AuditEvent['decisions'] } };
    expect(canonicalBytes(odd).toString('utf8')).toBe(canonicalJson(canonicalForm(odd)));
    expect(canonicalBytes(odd).toString('utf8')).toContain('"agency":{"a":2,"b":1}');
  });

  it('sorts keys at every level, has no whitespace and renders integers, nulls and strings canonically', () => {
    expect(canonicalJson({ b: 1, a: { d: null, c: 'x"y' }, A: [2, 'é'] })).toBe('{"A":[2,"é"],"a":{"c":"x\\"y","d":null},"b":1}');
  });

  it('rejects floats and unsafe integers, which have no single textual form', () => {
    expect(() => canonicalJson({ x: 1.5 })).toThrow(/safe integers/);
    expect(() => canonicalJson(2 ** 60)).toThrow(/safe integers/);
  });

  it('is independent of the insertion order of details and covers every field', () => {
    const a = entry(1, { details: { z: '1', a: '2' } });
    const b = entry(1, { details: { a: '2', z: '1' } });
    expect(canonicalBytes(a).equals(canonicalBytes(b))).toBe(true);
    const text = canonicalBytes(a).toString('utf8');
    expect(text.startsWith('{"actor":"FR-NCB","agency":null,"alertId":')).toBe(true);
    expect(text).toContain('"kafka":{"offset":"101","partition":0,"topic":"audit.events"}');
    expect(text).toContain('"occurredAt":1741944413599');
    expect(text).toContain('"seq":"1"');
    expect(text).toContain('"v":1');
  });

  it('encodes bytes as base64 and changes with any field, the seq and the Kafka position', () => {
    const base = canonicalBytes(entry(1, { payload: Buffer.from([1, 2, 3]) }));
    expect(base.toString()).toContain('"payload":"AQID"');
    expect(canonicalBytes(entry(2, { payload: Buffer.from([1, 2, 3]) })).equals(base)).toBe(false);
    expect(canonicalBytes({ ...entry(1, { payload: Buffer.from([1, 2, 3]) }), offset: '999' }).equals(base)).toBe(false);
    expect(canonicalBytes(entry(1, { payload: Buffer.from([1, 2, 4]) })).equals(base)).toBe(false);
  });
});

describe('hash chain', () => {
  it('is SHA-256 over the raw previous hash followed by the canonical bytes', () => {
    const c = Buffer.from('{"a":1}');
    const expected = createHash('sha256')
      .update(Buffer.concat([GENESIS_HASH, c]))
      .digest();
    expect(chainHash(GENESIS_HASH, c).equals(expected)).toBe(true);
    expect(() => chainHash(Buffer.alloc(31), c)).toThrow(/32 bytes/);
  });

  it('links each entry to the one before, so changing one changes every later hash', () => {
    const entries = [entry(1), entry(2), entry(3)];
    const chained = chainEntries(GENESIS_HASH, entries);
    expect(chained[0]!.prevHash.equals(GENESIS_HASH)).toBe(true);
    expect(chained[1]!.prevHash.equals(chained[0]!.hash)).toBe(true);
    expect(chained[2]!.hash.equals(entryHash(chained[1]!.hash, entries[2]!))).toBe(true);
    const tampered = chainEntries(GENESIS_HASH, [entry(1, { actor: 'XX-NCB' }), entry(2), entry(3)]);
    expect(tampered.every((t, i) => !t.hash.equals(chained[i]!.hash))).toBe(true);
  });

  it('hashes the canonical text exactly as its UTF-8 bytes, lone surrogates and all (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (actor, detail) => {
        const e = entry(1, { actor, details: { [detail]: actor } });
        expect(entryHash(GENESIS_HASH, e).equals(chainHash(GENESIS_HASH, canonicalBytes(e)))).toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(() => entryHash(Buffer.alloc(31), entry(1))).toThrow(/32 bytes/);
  });
});

describe('checkpoint signatures', () => {
  it('verify only for the signed seq and head', () => {
    const key = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'audit-key-')), 'k.pem'));
    const head = createHash('sha256').update('head').digest();
    const sig = signCheckpoint(key, '42', head);
    expect(verifyCheckpoint(key.publicKey, '42', head, sig)).toBe(true);
    expect(verifyCheckpoint(key.publicKey, '43', head, sig)).toBe(false);
    expect(verifyCheckpoint(key.publicKey, '42', GENESIS_HASH, sig)).toBe(false);
    expect(key.keyId).toMatch(/^[0-9a-f]{16}$/);
  });
});
