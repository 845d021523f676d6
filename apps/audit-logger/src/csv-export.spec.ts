import { describe, expect, it } from '@jest/globals';
import { csvLine } from './compliance.queries.js';

/** The `reason` cell of a CSV line: it is the last column, after as many commas as an empty line has. */
function reasonCell(value: string): string {
  const empty = csvLine({}).length - 2;
  return csvLine({ reason: value }).slice(empty, -2);
}

describe('CSV export formula guard', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\t=cmd|calc', '\r=cmd|calc', '\tplain'])(
    'prefixes a cell starting with a formula trigger: %j',
    (value) => {
      const cell = reasonCell(value);
      // Quoted when it holds CR; either way the cell content starts with the apostrophe guard.
      const content = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      expect(content).toBe(`'${value}`);
    },
  );

  it('leaves ordinary text untouched', () => {
    expect(reasonCell('policy rule r1')).toBe('policy rule r1');
    expect(reasonCell('a, b')).toBe('"a, b"');
  });
});
