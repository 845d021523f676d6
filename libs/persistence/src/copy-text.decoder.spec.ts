import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CopyTextDecoder, type CopyField } from './copy-text.decoder.js';
import { copyTextLine } from './copy-text.encoder.js';

/** Decodes `text` fed in pieces cut at the given byte offsets. */
function decode(columns: number, bytes: Buffer, cuts: readonly number[] = []): CopyField[][] {
  const decoder = new CopyTextDecoder(columns);
  const rows: CopyField[][] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    decoder.push(bytes.subarray(from, cut), rows);
    from = cut;
  }
  decoder.push(bytes.subarray(from), rows);
  decoder.end();
  return rows;
}

// Values that the text format gives a meaning to, or that straddle a chunk boundary badly.
const NASTY: readonly (string | null)[] = [
  '',
  null,
  '\\N',
  'N',
  '\\',
  '\\\\',
  'ends with a backslash\\',
  'tab\there',
  'new\nline',
  'carriage\rreturn',
  '\r\n',
  'back\bspace, form\ffeed, vertical\vtab',
  '\\t is not a tab',
  'x\\x41 y\\101',
  'naïve café ✓ 日本語 🚨 \u{10FFFF}',
  '"quoted" {json: [1, 2]}',
  '\u0001\u001f\u007f',
];

describe('CopyTextDecoder', () => {
  it('reads back every nasty value the encoder writes, whatever the chunk boundaries', () => {
    const rows = NASTY.map((v, i) => [String(i), v, `${i}:${v ?? ''}`]);
    const bytes = Buffer.from(rows.map((r) => copyTextLine(r)).join(''), 'utf8');
    expect(decode(3, bytes)).toEqual(rows);
    // Every single cut point, so escapes, multi-byte characters and row ends are all split somewhere.
    for (let cut = 1; cut < bytes.length; cut++) expect(decode(3, bytes, [cut])).toEqual(rows);
    // One byte at a time.
    expect(
      decode(
        3,
        bytes,
        Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
      ),
    ).toEqual(rows);
  });

  it('reads what PostgreSQL writes: \\N as NULL, its escapes, and COPY FROM escapes it never writes', () => {
    const line = 'a\\\\b\t\\N\t\\b\\f\\n\\r\\t\\v\t\\x41\\x4a4\\xg\t\\101\\0\\7777\t\\.\\q\t\\\\N\n';
    // \777 is the byte 0xFF (octal values wrap at a byte), not valid UTF-8 on its own: U+FFFD.
    expect(decode(7, Buffer.from(line))).toEqual([['a\\b', null, '\b\f\n\r\t\v', 'AJ4xg', 'A\u0000\ufffd7', '.q', '\\N']]);
  });

  it('round-trips any strings and NULLs (property)', () => {
    const field = fc.option(fc.string({ unit: 'grapheme-composite' }), { nil: null });
    const anyText = fc.option(fc.string({ unit: fc.constantFrom('\\', '\t', '\n', '\r', 'N', 'x', '1', 'é', '🚨', '\b') }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(field, anyText, field), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        (rows, cutSeeds) => {
          const bytes = Buffer.from(rows.map((r) => copyTextLine(r)).join(''), 'utf8');
          const cuts = [...new Set(cutSeeds.map((s) => 1 + (s % Math.max(1, bytes.length - 1))))];
          expect(decode(3, bytes, cuts)).toEqual(rows);
        },
      ),
    );
  });

  it('refuses rows with the wrong number of columns and a stream cut inside a row', () => {
    expect(() => decode(3, Buffer.from('a\tb\n'))).toThrow('COPY row has 2 columns, expected 3');
    expect(() => decode(2, Buffer.from('a\tb\tc\n'))).toThrow('more than 2 columns');
    expect(() => decode(2, Buffer.from('a\tb\nc\t'))).toThrow('COPY stream ended inside a row');
    expect(() => new CopyTextDecoder(0)).toThrow('positive integer');
  });

  it('hands over only complete rows and keeps the rest for the next chunk', () => {
    const decoder = new CopyTextDecoder(2);
    const rows: CopyField[][] = [];
    decoder.push(Buffer.from('1\tone\n2\tt'), rows);
    expect(rows).toEqual([['1', 'one']]);
    decoder.push(Buffer.from('wo\n'), rows);
    expect(rows).toEqual([
      ['1', 'one'],
      ['2', 'two'],
    ]);
    decoder.end();
  });
});
