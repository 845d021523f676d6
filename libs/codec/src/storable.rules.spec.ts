// Property tests of the storable rules against independent oracles: UTF-8 round-tripping (what
// PostgreSQL's wire encoding does) for strings, and the documented timestamptz range for times.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  assertStorable,
  STORABLE_TIME_MAX_MS,
  STORABLE_TIME_MIN_MS,
  storableText,
  UNSTORABLE_REASONS,
  UnstorableRecordError,
  unstorableFields,
  unstorableString,
  unstorableTimestamp,
} from './storable.rules.js';
import { sampleFullAlert } from './testing/alert.fixture.js';

/** Any UTF-16 code unit, lone surrogates and NUL included. */
const anyUnits = fc.string({ unit: fc.nat({ max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });

describe('unstorableString', () => {
  it('accepts exactly the strings that survive UTF-8 and contain no NUL', () => {
    fc.assert(
      fc.property(anyUnits, (s) => {
        const survivesUtf8 = Buffer.from(s, 'utf8').toString('utf8') === s;
        const storable = survivesUtf8 && !s.includes('\0');
        expect(unstorableString(s) === null).toBe(storable);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed string without NUL (any code point, astral included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        expect(unstorableString(s.replace(/\0/g, ''))).toBeNull();
      }),
    );
  });

  it('names NUL and lone surrogates wherever they sit', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.constantFrom('\0', '\ud800', '\udfff', '\udbff'),
        (a, b, bad) => {
          const reason = unstorableString(`${a.replace(/\0/g, '')}${bad}${b.replace(/\0/g, '')}`);
          expect(reason).toBe(bad === '\0' ? UNSTORABLE_REASONS.nul : UNSTORABLE_REASONS.loneSurrogate);
        },
      ),
    );
    expect(unstorableString('\ud83d\ude00')).toBeNull();
    expect(unstorableString('\ude00\ud83d')).toBe(UNSTORABLE_REASONS.loneSurrogate);
  });
});

describe('storableText', () => {
  it('always yields a storable string, unchanged when it already was, of the same length', () => {
    fc.assert(
      fc.property(anyUnits, (s) => {
        const t = storableText(s);
        expect(unstorableString(t)).toBeNull();
        expect(t.length).toBe(s.length);
        if (unstorableString(s) === null) expect(t).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('unstorableTimestamp', () => {
  it('accepts exactly the times PostgreSQL timestamptz and a Date both hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        const inRange = ms >= STORABLE_TIME_MIN_MS && ms <= STORABLE_TIME_MAX_MS;
        expect(unstorableTimestamp(new Date(ms))).toBe(inRange ? null : UNSTORABLE_REASONS.timestampRange);
      }),
      { numRuns: 2000 },
    );
    expect(unstorableTimestamp(new Date(STORABLE_TIME_MIN_MS - 1))).toBe(UNSTORABLE_REASONS.timestampRange);
    expect(unstorableTimestamp(new Date(STORABLE_TIME_MIN_MS))).toBeNull();
    expect(unstorableTimestamp(new Date(Number.NaN))).toBe(UNSTORABLE_REASONS.invalidTimestamp);
  });
});

describe('unstorableFields', () => {
  it('finds a NUL planted in any string field of an alert, by its JSON pointer', () => {
    const alert = sampleFullAlert();
    expect(unstorableFields(alert)).toEqual([]);
    const bad = { ...alert, headline: 'Wanted\0', subject: { ...alert.subject!, forenames: 'Jo\ud800' } };
    expect(unstorableFields(bad)).toEqual([
      { field: '/headline', reason: UNSTORABLE_REASONS.nul },
      { field: '/subject/forenames', reason: UNSTORABLE_REASONS.loneSurrogate },
    ]);
    expect(() => assertStorable(bad)).toThrow(UnstorableRecordError);
  });

  it('walks arrays, escapes pointers, reports bad keys and times, and treats bytes as opaque', () => {
    const found = unstorableFields({
      'a/b': ['ok', 'x\0'],
      ['k\0']: 1,
      when: new Date(STORABLE_TIME_MIN_MS - 1),
      raw: Buffer.from([0, 0xd8]),
    });
    expect(found).toEqual([
      { field: '/a~1b/1', reason: UNSTORABLE_REASONS.nul },
      { field: '/k\ufffd', reason: UNSTORABLE_REASONS.nul },
      { field: '/when', reason: UNSTORABLE_REASONS.timestampRange },
    ]);
  });
});
