import type { DataSource } from 'typeorm';
import { assertIdentifier, quoteIdentifier, quoteLiteral } from './sql-identifier.js';

export interface AppendOnlyOptions {
  /** Group role (NOLOGIN) that may only SELECT and INSERT; grant it to the service's login user. */
  readonly role: string;
  /** `table` (current schema) or `schema.table`; must exist. */
  readonly table: string;
}

/**
 * Anything that runs SQL and resolves to the rows: an EntityManager, a QueryRunner, or an adapter
 * over a plain pg client (`{ query: async (sql, p) => (await client.query(sql, p)).rows }`).
 */
export interface SqlQueryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Makes `table` append-only in two layers:
 * - privileges: `role` gets SELECT and INSERT (plus USAGE on the table's own sequences) and has
 *   UPDATE, DELETE and TRUNCATE revoked, for PUBLIC too;
 * - triggers that raise on UPDATE, DELETE and TRUNCATE for everybody, including the table owner
 *   and superusers, who bypass privileges (only someone able to drop the trigger gets past it).
 * Idempotent. With a DataSource it runs in one transaction; with an EntityManager, a QueryRunner
 * (e.g. inside a migration) or a pg adapter it runs in the caller's transaction, if any.
 */
export async function createAppendOnlyRole(target: DataSource | SqlQueryable, options: AppendOnlyOptions): Promise<void> {
  if ('isInitialized' in target && 'transaction' in target) {
    await target.transaction((manager) => applyAppendOnly(manager, options));
    return;
  }
  await applyAppendOnly(target, options);
}

async function applyAppendOnly(sql: SqlQueryable, options: AppendOnlyOptions): Promise<void> {
  const role = assertIdentifier(options.role, 'role name');
  const parts = options.table.split('.');
  if (parts.length > 2) throw new Error(`Invalid table name "${options.table}": expected "table" or "schema.table"`);
  parts.forEach((p) => assertIdentifier(p, 'table name'));
  const found = (await sql.query(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass($1)`,
    [parts.map(quoteIdentifier).join('.')],
  )) as Array<{ schema: string; name: string }>;
  const located = found[0];
  if (!located) throw new Error(`createAppendOnlyRole: table ${options.table} does not exist`);
  const schema = quoteIdentifier(located.schema);
  const table = `${schema}.${quoteIdentifier(located.name)}`;
  const r = quoteIdentifier(role);

  // DO blocks take no parameters; the role name was validated above, so the literal is safe.
  await sql.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN
        CREATE ROLE ${r} NOLOGIN;
      END IF;
    EXCEPTION WHEN duplicate_object THEN NULL; -- created concurrently
    END $$`);
  await sql.query(`GRANT USAGE ON SCHEMA ${schema} TO ${r}`);
  await sql.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${table} FROM PUBLIC, ${r}`);
  await sql.query(`GRANT SELECT, INSERT ON ${table} TO ${r}`);
  // serial / identity defaults call nextval() on sequences the table owns.
  const sequences = (await sql.query(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(s.relname) AS name
       FROM pg_class s
       JOIN pg_namespace n ON n.oid = s.relnamespace
       JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
      WHERE s.relkind = 'S' AND d.refobjid = to_regclass($1)`,
    [table],
  )) as Array<{ name: string }>;
  for (const seq of sequences) await sql.query(`GRANT USAGE ON SEQUENCE ${seq.name} TO ${r}`);

  await sql.query(`CREATE OR REPLACE FUNCTION ${schema}.backbone_reject_mutation() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'table %.% is append-only: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
    END $$`);
  await sql.query(`DROP TRIGGER IF EXISTS backbone_append_only_rows ON ${table}`);
  await sql.query(`CREATE TRIGGER backbone_append_only_rows BEFORE UPDATE OR DELETE ON ${table}
    FOR EACH ROW EXECUTE FUNCTION ${schema}.backbone_reject_mutation()`);
  await sql.query(`DROP TRIGGER IF EXISTS backbone_append_only_truncate ON ${table}`);
  await sql.query(`CREATE TRIGGER backbone_append_only_truncate BEFORE TRUNCATE ON ${table}
    FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.backbone_reject_mutation()`);
}
