import pg from 'pg';
import { auditEventCodec } from '@backbone/codec';
import { chainEntries, entryToParams, GENESIS_HASH, LEDGER_COLUMNS, type LedgerEntry } from '@backbone/ledger';
import { copyTextLine } from '@backbone/persistence';
import { copyFrom, copyTo } from './pg.copy.js';

/** The audit ledger's table (libs/ledger/src/ledger.schema.ts) with the same keys and indexes. */
const TABLE_DDL = (t: string): string[] => [
  `CREATE TABLE ${t} (
     seq bigint PRIMARY KEY, topic text NOT NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,
     recorded_at timestamptz NOT NULL, event_id text NOT NULL, type text NOT NULL, occurred_at timestamptz NOT NULL,
     service text NOT NULL, actor text, alert_id text, alert_version integer, originator text, notice_type text,
     agency text, policy_version text, decisions jsonb NOT NULL, reason text, details jsonb NOT NULL, payload bytea,
     prev_hash bytea NOT NULL, hash bytea NOT NULL, signer text, signer_key_id text, signature bytea,
     UNIQUE (topic, kafka_partition, kafka_offset))`,
  `CREATE INDEX ON ${t} (event_id)`,
  `CREATE INDEX ON ${t} (alert_id, seq)`,
  `CREATE INDEX ON ${t} (agency, occurred_at)`,
  `CREATE INDEX ON ${t} (occurred_at)`,
  `CREATE INDEX ON ${t} USING gin (decisions jsonb_path_ops)`,
];
const COLUMNS = LEDGER_COLUMNS.length;
const COLUMN_LIST = LEDGER_COLUMNS.join(',');

/**
 * Raw PostgreSQL ceilings for the audit figures, on rows like the ledger's: multi-row INSERT (one
 * statement and transaction per batch, as the ingest commits per Kafka batch) and a keyset-paged
 * scan of every column (how verify and export read). Rows come from the same encoded events the
 * audit logger ingests, decoded once up front (the ceiling has no decode or hash work).
 */
export interface PgCeilings {
  insertRowsPerS: number;
  scanRowsPerS: number;
  /** COPY FROM STDIN of the same rows, one COPY and transaction per batch. */
  copyRowsPerS: number;
  /** One COPY (SELECT * … ORDER BY seq) TO STDOUT of every row: a single stream, no pages. */
  streamRowsPerS: number;
  rows: number;
}

export async function pgCeilings(databaseUrl: string, records: readonly Buffer[], batch = 500): Promise<PgCeilings> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-pg-ceiling' });
  await client.connect();
  const table = 'bench_pg_ceiling';
  try {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    for (const sql of TABLE_DDL(table)) await client.query(sql);
    const now = new Date();
    // The ledger's own row mapping and chain (the writer's entryToParams), so the ceiling cannot drift from it.
    const entries: LedgerEntry[] = records.map((value, i) => ({
      seq: String(i + 1),
      topic: 'bench.audit.events',
      partition: 0,
      offset: String(i),
      recordedAt: now,
      event: auditEventCodec.decode(value),
    }));
    const rows = chainEntries(GENESIS_HASH, entries).map((c) => entryToParams(c.entry, c.prevHash, c.hash));
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += batch) {
      const chunk = rows.slice(i, i + batch);
      const values = chunk.map((_, r) => `(${Array.from({ length: COLUMNS }, (_, c) => `$${r * COLUMNS + c + 1}`).join(',')})`).join(',');
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} (${COLUMN_LIST}) VALUES ${values}`, chunk.flat());
      await client.query('COMMIT');
    }
    const insertMs = performance.now() - t0;

    const t1 = performance.now();
    let scanned = 0;
    let after = 0;
    for (;;) {
      const page = await client.query<{ seq: string }>(`SELECT * FROM ${table} WHERE seq > $1 ORDER BY seq LIMIT 2000`, [after]);
      scanned += page.rows.length;
      if (page.rows.length < 2000) break;
      after = Number(page.rows[page.rows.length - 1]!.seq);
    }
    const scanMs = performance.now() - t1;

    const t2 = performance.now();
    const streamed = await copyTo(client, `COPY (SELECT * FROM ${table} ORDER BY seq) TO STDOUT`);
    const streamMs = performance.now() - t2;

    // The same rows again, into an empty twin table, by COPY (text format, as the ingest writes) in the same batches.
    const copyTable = `${table}_copy`;
    await client.query(`DROP TABLE IF EXISTS ${copyTable}`);
    for (const sql of TABLE_DDL(copyTable)) await client.query(sql);
    const lines = rows.map((r) => Buffer.from(copyTextLine(r)));
    const t3 = performance.now();
    for (let i = 0; i < lines.length; i += batch) {
      await client.query('BEGIN');
      await copyFrom(client, `COPY ${copyTable} (${COLUMN_LIST}) FROM STDIN`, lines.slice(i, i + batch));
      await client.query('COMMIT');
    }
    const copyMs = performance.now() - t3;
    return {
      insertRowsPerS: (rows.length * 1000) / insertMs,
      scanRowsPerS: (scanned * 1000) / scanMs,
      copyRowsPerS: (rows.length * 1000) / copyMs,
      streamRowsPerS: (streamed * 1000) / streamMs,
      rows: scanned,
    };
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${table}_copy`).catch(() => undefined);
    await client.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await client.end();
  }
}
