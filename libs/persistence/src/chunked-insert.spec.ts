import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildInsertSql, chunk, flattenRows, MAX_BIND_PARAMETERS, rowsPerStatement } from './chunked-insert.js';

describe('rowsPerStatement', () => {
  it.each([
    [1, 65_535],
    [2, 32_767],
    [3, 21_845],
    [7, 9_362],
    [65_535, 1],
  ])('%i columns -> %i rows', (columns, rows) => {
    expect(rowsPerStatement(columns)).toBe(rows);
  });

  it('never exceeds the limit and never wastes a whole row of room', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_BIND_PARAMETERS }), (columns) => {
        const rows = rowsPerStatement(columns);
        expect(rows * columns).toBeLessThanOrEqual(MAX_BIND_PARAMETERS);
        expect((rows + 1) * columns).toBeGreaterThan(MAX_BIND_PARAMETERS);
      }),
    );
  });

  it('honours a lower budget and rejects impossible ones', () => {
    expect(rowsPerStatement(4, 10)).toBe(2);
    expect(() => rowsPerStatement(0)).toThrow(/positive integer/);
    expect(() => rowsPerStatement(65_536)).toThrow(/do not fit/);
    expect(() => rowsPerStatement(3, 70_000)).toThrow(/maxParameters/);
  });
});

describe('chunk', () => {
  it('keeps every item, in order, in chunks of at most the size', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (items, size) => {
        const parts = chunk(items, size);
        expect(parts.flat()).toEqual(items);
        expect(parts.every((p) => p.length >= 1 && p.length <= size)).toBe(true);
        expect(parts.slice(0, -1).every((p) => p.length === size)).toBe(true);
      }),
    );
  });
});

describe('buildInsertSql', () => {
  it('numbers parameters row by row and quotes names', () => {
    expect(buildInsertSql('audit.ledger', ['seq', 'hash'], 2)).toBe('INSERT INTO "audit"."ledger" ("seq","hash") VALUES ($1,$2),($3,$4)');
  });

  it('adds ON CONFLICT with or without a target', () => {
    expect(buildInsertSql('t', ['a'], 1, ['a'])).toBe('INSERT INTO "t" ("a") VALUES ($1) ON CONFLICT ("a") DO NOTHING');
    expect(buildInsertSql('t', ['a'], 1, [])).toBe('INSERT INTO "t" ("a") VALUES ($1) ON CONFLICT DO NOTHING');
  });

  it('escapes quotes in identifiers and rejects malformed names', () => {
    expect(buildInsertSql('t', ['we"ird'], 1)).toBe('INSERT INTO "t" ("we""ird") VALUES ($1)');
    expect(() => buildInsertSql('a.b.c', ['x'], 1)).toThrow(/Invalid table name/);
    expect(() => buildInsertSql('t', [], 1)).toThrow(/at least one column/);
    expect(() => buildInsertSql('t', ['a', 'a'], 1)).toThrow(/Duplicate column/);
  });
});

describe('flattenRows', () => {
  it('takes arrays as given and objects by column name, missing values as NULL', () => {
    expect(flattenRows(['a', 'b'], [[1, 2], { b: 4, a: 3 }, { a: 5 }])).toEqual([1, 2, 3, 4, 5, null]);
  });

  it('rejects an array row of the wrong width', () => {
    expect(() => flattenRows(['a', 'b'], [[1]])).toThrow('Row 0 has 1 values for 2 columns');
  });
});
