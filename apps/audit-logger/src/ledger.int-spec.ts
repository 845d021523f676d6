import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { alertCodec, auditEventCodec } from '@backbone/codec';
import { sampleAlert, sampleAuditEvent } from '@backbone/codec/testing';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import {
  appDatabaseUrl,
  appRolePassword,
  DEFAULT_APP_ROLE,
  entryHash,
  generateSigningKey,
  LEDGER_SELECT,
  migrateLedger,
  rowToEntry,
  verifyLedger,
  whatIf,
  type LedgerRow,
  type SigningKey,
} from '@backbone/ledger';
import { LedgerWriter } from './ledger.writer.js';

const TOPIC = 'audit.events';
let key: SigningKey;
const opened: { db: TestDatabase; pool: pg.Pool; owner: pg.Client }[] = [];

beforeAll(() => {
  key = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'audit-ledger-')), 'signing-key.pem'));
});

afterAll(async () => {
  for (const o of opened) {
    await o.pool.end();
    await o.owner.end();
    await o.db.drop();
  }
}, 60_000);

function encoded(i: number): Buffer {
  return auditEventCodec.encode(sampleAuditEvent({ eventId: randomUUID(), actor: `DESK-${i}`, details: { i: String(i) } }));
}

/** A ledger of `rows` rows appended one at a time, signed every 4 rows (checkpoints at 4, 8, ...). */
async function ledgerOf(rows: number): Promise<{ pool: pg.Pool; owner: pg.Client; writer: LedgerWriter }> {
  const db = await createTestDatabase({ label: 'audit_ledger' });
  const password = appRolePassword(null);
  await migrateLedger({ ownerUrl: db.url, appPassword: password });
  const pool = new pg.Pool({ connectionString: appDatabaseUrl(db.url, DEFAULT_APP_ROLE, password), max: 2 });
  const owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  opened.push({ db, pool, owner });
  const writer = new LedgerWriter(pool, { signingKey: key, checkpointEveryRows: 4 });
  for (let i = 0; i < rows; i++) await writer.append(TOPIC, 0, [{ offset: String(i), value: encoded(i) }]);
  // As the test superuser: switch off the append-only trigger to play the attacker.
  await owner.query('ALTER TABLE audit.ledger DISABLE TRIGGER USER');
  await owner.query('ALTER TABLE audit.checkpoints DISABLE TRIGGER USER');
  return { pool, owner, writer };
}

const keys = (): Map<string, SigningKey['publicKey']> => new Map([[key.keyId, key.publicKey]]);

async function rowAt(owner: pg.Client, seq: number): Promise<LedgerRow> {
  return (await owner.query<LedgerRow>(`SELECT ${LEDGER_SELECT} FROM audit.ledger WHERE seq = $1`, [seq])).rows[0]!;
}

describe('ledger (real PostgreSQL)', () => {
  it('chains, checkpoints and verifies an untouched ledger, with counts', async () => {
    const { pool } = await ledgerOf(10);
    const report = await verifyLedger(pool, keys());
    expect(report).toMatchObject({
      ok: true,
      rows: 10,
      headSeq: 10,
      checkpoints: 2,
      checkpointsVerified: 2,
      unsignedTail: 2,
      firstBreak: null,
    });
  });

  it('walks checkpoints in numeric order (10+ checkpoints: "12" sorts before "4" as text)', async () => {
    const { pool } = await ledgerOf(45);
    expect(await verifyLedger(pool, keys())).toMatchObject({ ok: true, rows: 45, checkpoints: 11, checkpointsVerified: 11 });
  });

  it('what-if: lists the deliveries a candidate policy would change against past SUBMITTED alerts', async () => {
    const { pool, writer } = await ledgerOf(0);
    const alertId = randomUUID();
    const alert = sampleAlert({ alertId, sent: new Date() });
    const common = { alertId, alertVersion: 1, originator: 'FR-NCB', noticeType: 'RED' };
    await writer.append(TOPIC, 0, [
      {
        offset: '0',
        value: auditEventCodec.encode(
          sampleAuditEvent({
            ...common,
            eventId: randomUUID(),
            type: 'SUBMITTED',
            occurredAt: new Date(),
            payload: alertCodec.encode(alert),
          }),
        ),
      },
      {
        offset: '1',
        value: auditEventCodec.encode(
          sampleAuditEvent({
            ...common,
            eventId: randomUUID(),
            type: 'DECIDED',
            occurredAt: new Date(),
            policyVersion: 'old',
            decisions: [{ agency: 'DE-NCB', outcome: 'DENY', ruleId: 'old.rule', redactedGroups: [], executionFlags: [] }],
          }),
        ),
      },
    ]);
    const result = await whatIf(
      pool,
      { version: '2026-11-01' },
      'policies',
      new Date(Date.now() - 3_600_000),
      new Date(Date.now() + 3_600_000),
    );
    expect(result.alertsEvaluated).toBe(1);
    expect(result.candidatePolicyVersion).toBe('2026-11-01');
    const de = result.changes.find((c) => c.agency === 'DE-NCB');
    expect(de).toMatchObject({
      alertId,
      old: { outcome: 'DENY', ruleId: 'old.rule', policyVersion: 'old' },
      new: { policyVersion: '2026-11-01' },
    });
    expect(de!.new.outcome).not.toBe('DENY');
    // Agencies with no recorded decision show up as changes from "no decision".
    expect(result.changes.some((c) => c.agency !== 'DE-NCB' && c.old === null)).toBe(true);
  });

  it('stores a redelivered Kafka position once, inside and across batches', async () => {
    const { pool, writer } = await ledgerOf(3);
    const again = await writer.append(TOPIC, 0, [
      { offset: '1', value: encoded(1) },
      { offset: '2', value: encoded(2) },
      { offset: '3', value: encoded(3) },
    ]);
    expect(again).toMatchObject({ inserted: 1, duplicates: 2, headSeq: '4' });
    const other = await writer.append(TOPIC, 1, [{ offset: '1', value: encoded(9) }]);
    expect(other.inserted).toBe(1);
    expect((await verifyLedger(pool, keys())).rows).toBe(5);
  });

  it('stores an event re-sent at another position (an outbox re-send, same eventId) once, inside and across batches', async () => {
    const { pool, writer } = await ledgerOf(1);
    const resent = auditEventCodec.encode(sampleAuditEvent({ eventId: randomUUID(), actor: 'DESK-resent' }));
    const first = await writer.append(TOPIC, 0, [
      { offset: '1', value: resent },
      { offset: '2', value: resent },
    ]);
    expect(first).toMatchObject({ inserted: 1, duplicates: 1 });
    const later = await writer.append(TOPIC, 1, [{ offset: '7', value: resent }]);
    expect(later).toMatchObject({ inserted: 0, duplicates: 1 });
    expect((await verifyLedger(pool, keys())).rows).toBe(2);
  });

  it('records an undecodable event as UNKNOWN rather than losing or blocking on it', async () => {
    const { pool, writer } = await ledgerOf(0);
    await writer.append(TOPIC, 0, [{ offset: '0', value: Buffer.from('not avro') }]);
    const r = await pool.query<{ type: string; reason: string }>('SELECT type, reason FROM audit.ledger');
    expect(r.rows).toEqual([{ type: 'UNKNOWN', reason: 'UNDECODABLE' }]);
  });

  it('inserts a large batch in chunks under the 65,535 bind-parameter limit, one transaction', async () => {
    const { pool, writer } = await ledgerOf(0);
    const n = 6000; // 22 columns: 2,978 rows per statement, so three statements
    const res = await writer.append(
      TOPIC,
      0,
      Array.from({ length: n }, (_, i) => ({ offset: String(i), value: encoded(i) })),
    );
    expect(res.inserted).toBe(n);
    const report = await verifyLedger(pool, keys());
    expect(report).toMatchObject({ ok: true, rows: n, checkpoints: 1 });
  });

  it('denies UPDATE, DELETE and TRUNCATE to the app role (privileges) and to the owner (trigger)', async () => {
    const db = await createTestDatabase({ label: 'audit_roles' });
    const password = appRolePassword(null);
    await migrateLedger({ ownerUrl: db.url, appPassword: password });
    const app = new pg.Client({ connectionString: appDatabaseUrl(db.url, DEFAULT_APP_ROLE, password) });
    const owner = new pg.Client({ connectionString: db.url });
    await app.connect();
    await owner.connect();
    try {
      expect((await app.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe(DEFAULT_APP_ROLE);
      const writerPool = new pg.Pool({ connectionString: appDatabaseUrl(db.url, DEFAULT_APP_ROLE, password), max: 1 });
      await new LedgerWriter(writerPool, { signingKey: key, checkpointEveryRows: 1 }).append(TOPIC, 0, [
        { offset: '0', value: encoded(0) },
      ]);
      await writerPool.end();
      for (const sql of [
        "UPDATE audit.ledger SET actor = 'X'",
        'DELETE FROM audit.ledger',
        'TRUNCATE audit.ledger',
        'DELETE FROM audit.checkpoints',
      ]) {
        await expect(app.query(sql)).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied/) });
      }
      for (const sql of [
        "UPDATE audit.ledger SET actor = 'X'",
        'DELETE FROM audit.ledger',
        'TRUNCATE audit.ledger',
        "UPDATE audit.checkpoints SET key_id = 'x'",
      ]) {
        await expect(owner.query(sql)).rejects.toMatchObject({ message: expect.stringMatching(/append-only/) });
      }
      expect((await owner.query('SELECT count(*)::int AS n FROM audit.ledger')).rows[0]).toEqual({ n: 1 });
    } finally {
      await app.end();
      await owner.end();
      await db.drop();
    }
  });

  describe('detects tampering at the right row', () => {
    it('a modified field', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query(`UPDATE audit.ledger SET agency = 'XX-NCB' WHERE seq = 5`);
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 5, kind: 'modified' });
    });

    it('a deleted row', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query('DELETE FROM audit.ledger WHERE seq = 6');
      const report = await verifyLedger(pool, keys());
      expect(report.ok).toBe(false);
      expect(report.firstBreak).toMatchObject({ seq: 6, kind: 'deleted' });
      expect(report.rows).toBe(5);
    });

    it('a deleted tail that a checkpoint had signed', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query('DELETE FROM audit.ledger WHERE seq >= 7');
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 7, kind: 'deleted' });
    });

    it('a forged row appended with a made-up hash', async () => {
      const { pool, owner } = await ledgerOf(10);
      const last = await rowAt(owner, 10);
      await owner.query(
        `INSERT INTO audit.ledger SELECT 11, topic, kafka_partition, 999, recorded_at, event_id, type, occurred_at, service, 'FORGER', alert_id, alert_version,
           originator, notice_type, agency, policy_version, decisions, reason, details, payload, $1, $2 FROM audit.ledger WHERE seq = 10`,
        [last.hash, randomBytes(32)],
      );
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 11, kind: 'modified' });
    });

    it('a forged row inserted in the middle with a correctly computed hash (later rows renumbered)', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query('UPDATE audit.ledger SET seq = seq + 1000000 WHERE seq >= 5');
      await owner.query('UPDATE audit.ledger SET seq = seq - 999999 WHERE seq > 1000000');
      const prev = await rowAt(owner, 4);
      const forged = rowToEntry({ ...(await rowAt(owner, 6)), seq: '5', actor: 'FORGER', kafka_offset: '777' });
      const hash = entryHash(prev.hash, forged);
      await owner.query(
        `INSERT INTO audit.ledger SELECT 5, topic, kafka_partition, 777, recorded_at, event_id, type, occurred_at, service, 'FORGER', alert_id, alert_version,
           originator, notice_type, agency, policy_version, decisions, reason, details, payload, $1, $2 FROM audit.ledger WHERE seq = 6`,
        [prev.hash, hash],
      );
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 5, kind: 'inserted' });
    });

    it('two rows swapped in order', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query('UPDATE audit.ledger SET seq = 1000 WHERE seq = 3');
      await owner.query('UPDATE audit.ledger SET seq = 3 WHERE seq = 7');
      await owner.query('UPDATE audit.ledger SET seq = 7 WHERE seq = 1000');
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 3, kind: 'reordered' });
    });

    it('a consistent rewrite of the chain, caught by the signed checkpoint', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query(`UPDATE audit.ledger SET actor = 'REWRITTEN' WHERE seq = 2`);
      // The attacker recomputes every hash from row 2 on, so every link holds.
      let prev = (await rowAt(owner, 1)).hash;
      for (let s = 2; s <= 10; s++) {
        const row = await rowAt(owner, s);
        const hash = entryHash(prev, rowToEntry(row));
        await owner.query('UPDATE audit.ledger SET prev_hash = $1, hash = $2 WHERE seq = $3', [prev, hash, s]);
        prev = hash;
      }
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 1, kind: 'checkpoint-mismatch' });
    });

    it('a checkpoint re-signed with another key', async () => {
      const { pool, owner } = await ledgerOf(10);
      await owner.query(`UPDATE audit.checkpoints SET signature = $1 WHERE seq = 8`, [randomBytes(64)]);
      expect((await verifyLedger(pool, keys())).firstBreak).toMatchObject({ seq: 8, kind: 'bad-signature' });
    });
  });
});
