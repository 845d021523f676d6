/**
 * Identifiers (database, schema, role, table names) cannot be bound as parameters, so every one
 * that reaches SQL text goes through here. The strict pattern also keeps names under PostgreSQL's
 * 63-byte limit: longer names are silently truncated by the server, and two truncated names
 * could then collide.
 */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`Invalid ${what} "${name}": use 1-63 characters of lower-case letters, digits and "_", not starting with a digit`);
  }
  return name;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `"schema"."table"` from `table` or `schema.table`. */
export function quoteTableName(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) {
    throw new Error(`Invalid table name "${table}": expected "table" or "schema.table"`);
  }
  return parts.map(quoteIdentifier).join('.');
}

/** A literal for the few statements that take no bind parameters (CREATE ROLE ... PASSWORD). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
