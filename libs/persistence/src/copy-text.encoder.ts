// PostgreSQL COPY text format (the default of COPY … FROM STDIN): one line per row, columns
// separated by a tab, NULL as \N, and backslash, tab, newline and carriage return escaped inside
// a value. Values arrive as node-postgres bind parameters would (string, number, bigint, boolean,
// Date, Buffer, null), so a row built for an INSERT can be copied unchanged.

const NULL = '\\N';

/** Escapes the characters COPY text format gives a meaning to. */
function escapeText(s: string): string {
  // Fast path: most values have none of them.
  if (!/[\\\t\n\r]/.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** One value in COPY text format: bytea as hex (`\\x…`, the backslash itself escaped), timestamps as ISO 8601. */
export function copyTextValue(v: unknown): string {
  if (v === null || v === undefined) return NULL;
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') return escapeText(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  // Objects go in as JSON (jsonb columns), as node-postgres would send them.
  return escapeText(JSON.stringify(v));
}

/** One row (values in column order) as a COPY text line, newline included. */
export function copyTextLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : '\t') + copyTextValue(values[i]);
  return line + '\n';
}
