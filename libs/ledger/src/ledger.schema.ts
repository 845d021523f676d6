import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { EntityManager } from 'typeorm';
import { backboneHome, createAppendOnlyRole, setRolePasswordSql } from '@backbone/persistence';

/** The ledger's PostgreSQL schema; every table below lives in it. */
export const AUDIT_SCHEMA = 'audit';
/** NOLOGIN group role holding SELECT/INSERT on the append-only tables (granted to the login role). */
export const AUDIT_WRITER_GROUP = 'backbone_audit_writer';
export const DEFAULT_APP_ROLE = 'backbone_audit_app';
/**
 * The ledger schema this code needs. Raise it with every change to DDL below: the audit logger,
 * which runs without owner rights and so cannot migrate, refuses to start against an older one.
 */
export const LEDGER_SCHEMA_VERSION = 1;

const DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${AUDIT_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.ledger (
     seq             bigint PRIMARY KEY CHECK (seq > 0),
     topic           text NOT NULL,
     kafka_partition integer NOT NULL,
     kafka_offset    bigint NOT NULL,
     recorded_at     timestamptz NOT NULL,
     event_id        text NOT NULL,
     type            text NOT NULL,
     occurred_at     timestamptz NOT NULL,
     service         text NOT NULL,
     actor           text,
     alert_id        text,
     alert_version   integer,
     originator      text,
     notice_type     text,
     agency          text,
     policy_version  text,
     decisions       jsonb NOT NULL,
     reason          text,
     details         jsonb NOT NULL,
     payload         bytea,
     prev_hash       bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
     hash            bytea NOT NULL CHECK (octet_length(hash) = 32),
     CONSTRAINT ledger_kafka_position UNIQUE (topic, kafka_partition, kafka_offset)
   )`,
  // Signed audit events (v2): who signed, with which key, and the signature, so verify can
  // re-check every row. Null on rows written before signatures existed.
  `ALTER TABLE ${AUDIT_SCHEMA}.ledger ADD COLUMN IF NOT EXISTS signer text`,
  `ALTER TABLE ${AUDIT_SCHEMA}.ledger ADD COLUMN IF NOT EXISTS signer_key_id text`,
  `ALTER TABLE ${AUDIT_SCHEMA}.ledger ADD COLUMN IF NOT EXISTS signature bytea`,
  // The writer skips an event already in the ledger (re-sent by an outbox); this finds it.
  `CREATE INDEX IF NOT EXISTS ledger_event_idx ON ${AUDIT_SCHEMA}.ledger (event_id)`,
  `CREATE INDEX IF NOT EXISTS ledger_alert_idx ON ${AUDIT_SCHEMA}.ledger (alert_id, seq)`,
  `CREATE INDEX IF NOT EXISTS ledger_agency_idx ON ${AUDIT_SCHEMA}.ledger (agency, occurred_at)`,
  `CREATE INDEX IF NOT EXISTS ledger_occurred_idx ON ${AUDIT_SCHEMA}.ledger (occurred_at)`,
  `CREATE INDEX IF NOT EXISTS ledger_decisions_idx ON ${AUDIT_SCHEMA}.ledger USING gin (decisions jsonb_path_ops)`,
  `CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.checkpoints (
     seq        bigint PRIMARY KEY,
     head_hash  bytea NOT NULL,
     signature  bytea NOT NULL,
     key_id     text NOT NULL,
     signed_at  timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.signing_keys (
     key_id      text PRIMARY KEY,
     public_key  text NOT NULL,
     added_at    timestamptz NOT NULL DEFAULT now()
   )`,
  // The ledger's identity, made once with the ledger: every anchor names it, so ledgers sharing a
  // broker (one checkpoints topic) never read each other's anchors. One row, never changed.
  `CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.ledger_identity (
     singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
     ledger_id   uuid NOT NULL DEFAULT gen_random_uuid(),
     created_at  timestamptz NOT NULL DEFAULT now()
   )`,
  `INSERT INTO ${AUDIT_SCHEMA}.ledger_identity DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING`,
  `CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.compliance_users (
     token_id    text PRIMARY KEY,
     name        text NOT NULL,
     role        text NOT NULL,
     token_hash  text NOT NULL,
     created_at  timestamptz NOT NULL DEFAULT now(),
     revoked_at  timestamptz
   )`,
  // Which migrations ran: the audit logger checks it at start-up (checkLedgerSchema).
  `CREATE TABLE IF NOT EXISTS ${AUDIT_SCHEMA}.schema_version (
     version      integer PRIMARY KEY,
     migrated_at  timestamptz NOT NULL DEFAULT now()
   )`,
];

export interface MigrateOptions {
  /** Owner connection: creates the schema, the roles and the grants. */
  ownerUrl: string;
  appRole?: string;
  appPassword: string;
}

/** Adapter: createAppendOnlyRole takes a TypeORM-style `query()` that resolves to rows; we use plain pg here. */
function asQueryable(client: pg.ClientBase): EntityManager {
  // Only query() is ever called on it (the lib treats a non-DataSource as a transaction-bound runner).
  return { query: async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows } as unknown as EntityManager;
}

/**
 * Idempotent migration of the ledger, run as the owner at start-up. Serialised with an advisory
 * lock so several instances starting at once do not race on the DDL.
 */
export async function migrateLedger(options: MigrateOptions): Promise<void> {
  // Roles are cluster-wide but advisory locks are per database, so two databases on one server
  // (parallel tests, several ledgers) can still alter the same role at once; PostgreSQL then
  // refuses one with "tuple concurrently updated". The migration is idempotent: run it again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateLedgerOnce(options);
    } catch (err) {
      if (attempt >= 5 || !/tuple concurrently (updated|deleted)/.test((err as Error).message)) throw err;
    }
  }
}

async function migrateLedgerOnce(options: MigrateOptions): Promise<void> {
  const role = options.appRole ?? DEFAULT_APP_ROLE;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`Invalid app role name ${role}`);
  const client = new pg.Client({ connectionString: options.ownerUrl });
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext('backbone:audit:migrate'))`);
    // Serialises instances of one database; other databases are covered by the retry above.
    await client.query(`SELECT pg_advisory_lock(hashtext('backbone:audit:roles'))`);
    try {
      await client.query('BEGIN');
      for (const sql of DDL) await client.query(sql);
      const q = asQueryable(client);
      for (const table of ['ledger', 'checkpoints', 'signing_keys', 'ledger_identity']) {
        await createAppendOnlyRole(q, { role: AUDIT_WRITER_GROUP, table: `${AUDIT_SCHEMA}.${table}` });
      }
      // Compliance users may be revoked (UPDATE) but never deleted, so their history stays.
      await client.query(`GRANT SELECT, INSERT, UPDATE ON ${AUDIT_SCHEMA}.compliance_users TO ${AUDIT_WRITER_GROUP}`);
      await client.query(`REVOKE DELETE, TRUNCATE ON ${AUDIT_SCHEMA}.compliance_users FROM PUBLIC, ${AUDIT_WRITER_GROUP}`);
      await client.query(`DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
            CREATE ROLE ${role} LOGIN;
          END IF;
        EXCEPTION WHEN duplicate_object THEN NULL;
        END $$`);
      if (!/^[A-Za-z0-9_-]{16,}$/.test(options.appPassword))
        throw new Error('AUDIT_DB_APP_PASSWORD must be 16+ characters of [A-Za-z0-9_-]');
      // ALTER ROLE takes no bind parameter, so the statement carries a SCRAM verifier computed here,
      // never the password: nothing PostgreSQL could log or keep in pg_stat_statements reveals it.
      await client.query(`ALTER ROLE ${role} LOGIN INHERIT`);
      await client.query(setRolePasswordSql(role, options.appPassword));
      await client.query(`GRANT ${AUDIT_WRITER_GROUP} TO ${role}`);
      await client.query(`GRANT SELECT ON ${AUDIT_SCHEMA}.schema_version TO ${AUDIT_WRITER_GROUP}`);
      await client.query(`INSERT INTO ${AUDIT_SCHEMA}.schema_version (version) VALUES ($1) ON CONFLICT DO NOTHING`, [
        LEDGER_SCHEMA_VERSION,
      ]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext('backbone:audit:roles'))`).catch(() => undefined);
      await client.query(`SELECT pg_advisory_unlock(hashtext('backbone:audit:migrate'))`).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Provisioning (owner rights: `backbone audit migrate`, `npm start`, the test kits): migrates the
 * ledger, sets the app role's password, and returns the app role's URL, the only database URL the
 * audit logger is given.
 */
export async function provisionLedger(ownerUrl: string, opts: { appRole?: string; appPassword?: string | null } = {}): Promise<string> {
  const role = opts.appRole ?? DEFAULT_APP_ROLE;
  const password = appRolePassword(opts.appPassword);
  await migrateLedger({ ownerUrl, appRole: role, appPassword: password });
  return appDatabaseUrl(ownerUrl, role, password);
}

/** Why the audit logger cannot run on this database, as the operator should read it. */
export class LedgerNotMigratedError extends Error {
  override readonly name = 'LedgerNotMigratedError';
}

const MIGRATE_HINT = 'run `npx backbone audit migrate` with the database owner’s DATABASE_URL first';

/**
 * The audit logger's start-up check, as its own (non-owner) role: the ledger schema is there and
 * at LEDGER_SCHEMA_VERSION. A missing role, schema or version is a LedgerNotMigratedError naming
 * what is missing; other failures (server down) are thrown as they are.
 */
export async function checkLedgerSchema(pool: pg.Pool): Promise<number> {
  let version: number | null;
  try {
    const { rows } = await pool.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${AUDIT_SCHEMA}.schema_version`);
    version = rows[0]?.v ?? null;
  } catch (err) {
    const code = (err as { code?: string }).code;
    // 28000/28P01: the role does not exist or has no such password; 42P01/3F000: no table/schema;
    // 42501: the role was never granted the ledger.
    if (code === '28000' || code === '28P01') {
      throw new LedgerNotMigratedError(`cannot log in as the audit logger's role (${(err as Error).message}): ${MIGRATE_HINT}`);
    }
    if (code === '42P01' || code === '3F000') throw new LedgerNotMigratedError(`the audit ledger schema is missing: ${MIGRATE_HINT}`);
    if (code === '42501') throw new LedgerNotMigratedError(`the audit logger's role has no rights on the ledger: ${MIGRATE_HINT}`);
    throw err;
  }
  if (version === null || version < LEDGER_SCHEMA_VERSION) {
    throw new LedgerNotMigratedError(
      `the audit ledger schema is at version ${version ?? 'none'}, this audit logger needs ${LEDGER_SCHEMA_VERSION}: ${MIGRATE_HINT}`,
    );
  }
  return version;
}

/** The id this ledger was created with (its anchors carry it). */
export async function readLedgerId(pool: pg.Pool | pg.ClientBase): Promise<string> {
  const r = await pool.query<{ ledger_id: string }>(`SELECT ledger_id::text AS ledger_id FROM ${AUDIT_SCHEMA}.ledger_identity`);
  const id = r.rows[0]?.ledger_id;
  if (!id) throw new Error(`${AUDIT_SCHEMA}.ledger_identity is empty: the ledger was not migrated`);
  return id;
}

/** The owner URL with the app role's credentials: the service's own login, not SET ROLE. */
export function appDatabaseUrl(ownerUrl: string, role: string, password: string): string {
  const url = new URL(ownerUrl);
  url.username = role;
  url.password = password;
  return url.toString();
}

/** The app role's password: the given one, else one generated once per BACKBONE_HOME (shared by every local instance). */
export function appRolePassword(given: string | null | undefined): string {
  if (given) return given;
  const path = join(backboneHome(), 'audit', 'db-app-password');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(path, randomBytes(24).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return readFileSync(path, 'utf8').trim();
  }
}
