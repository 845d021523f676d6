import { describe, expect, it } from '@jest/globals';
import { copyTextLine, copyTextValue } from './copy-text.encoder.js';

describe('COPY text format', () => {
  it('writes NULL as \\N and keeps the string "\\N" apart from it', () => {
    expect(copyTextValue(null)).toBe('\\N');
    expect(copyTextValue(undefined)).toBe('\\N');
    expect(copyTextValue('\\N')).toBe('\\\\N');
  });

  it('escapes the separators and the backslash inside a value', () => {
    expect(copyTextValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyTextValue('plain value')).toBe('plain value');
  });

  it('writes bytea as escaped hex, timestamps as ISO 8601 and objects as JSON', () => {
    expect(copyTextValue(Buffer.from([0, 255]))).toBe('\\\\x00ff');
    expect(copyTextValue(new Date('2026-11-29T05:00:00.123Z'))).toBe('2026-11-29T05:00:00.123Z');
    expect(copyTextValue({ k: 'tab\there' })).toBe('{"k":"tab\\\\there"}');
    expect(copyTextValue(12n)).toBe('12');
    expect(copyTextValue(false)).toBe('false');
  });

  it('joins a row with tabs and ends it with a newline', () => {
    expect(copyTextLine(['1', null, 2])).toBe('1\t\\N\t2\n');
  });
});
