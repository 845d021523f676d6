/** A value canonical JSON can hold: no floats, no undefined. */
export type Canonical = null | boolean | number | string | Canonical[] | { [key: string]: Canonical };

/**
 * Canonical JSON text: object keys sorted by UTF-16 code unit order at every level, no
 * whitespace, strings escaped as JSON.stringify does, explicit nulls, safe integers only.
 * Used wherever bytes are hashed or signed (ledger hash chain, audit event signatures).
 */
export function canonicalJson(value: Canonical): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    // Floats have several textual forms across implementations; signed and hashed forms have none.
    if (!Number.isSafeInteger(value)) throw new Error(`canonical form allows only safe integers, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys
    .map((k) => {
      const v = value[k];
      if (v === undefined) throw new Error(`canonical form has no undefined (key ${k})`);
      return `${JSON.stringify(k)}:${canonicalJson(v)}`;
    })
    .join(',')}}`;
}
