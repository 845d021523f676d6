import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { AuditEvent } from '@backbone/codec';
import { sampleAuditEvent } from '@backbone/codec/testing';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { generateSigningKey, provisionLedger, verifyLedger, type SigningKey } from '@backbone/ledger';
import { LedgerWriter } from './ledger.writer.js';

// The writer's group commit: appends handed over together (the partitions of one fetch) share one
// transaction, each still gets its own counts, and one append PostgreSQL refuses fails alone.

const TOPIC = 'audit.events';
let db: TestDatabase;
let pool: pg.Pool;
let key: SigningKey;
let writer: LedgerWriter;

const events = (n: number, actor = 'DESK'): { offset: string; value: null; event: AuditEvent }[] =>
  Array.from({ length: n }, (_, i) => ({ offset: String(i), value: null, event: sampleAuditEvent({ eventId: randomUUID(), actor }) }));

beforeAll(async () => {
  key = generateSigningKey(join(mkdtempSync(join(tmpdir(), 'audit-group-')), 'signing-key.pem'));
  db = await createTestDatabase({ label: 'audit_group_commit' });
  pool = new pg.Pool({ connectionString: await provisionLedger(db.url), max: 3 });
  writer = new LedgerWriter(pool, { signingKey: key, checkpointEveryRows: 7 });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

const rowsOf = async (): Promise<{ seq: string; kafka_partition: number; recorded_at: Date }[]> =>
  (
    await pool.query<{ seq: string; kafka_partition: number; recorded_at: Date }>(
      'SELECT seq, kafka_partition, recorded_at FROM audit.ledger ORDER BY seq',
    )
  ).rows;

describe('ledger writer group commit (real PostgreSQL)', () => {
  it('writes appends handed over together in one transaction, in order, each with its own counts', async () => {
    const batches = [events(5), events(3), events(4)];
    const results = await Promise.all(batches.map((b, partition) => writer.append(TOPIC, partition, b)));
    expect(results.map((r) => r.inserted)).toEqual([5, 3, 4]);
    expect(results.map((r) => r.duplicates)).toEqual([0, 0, 0]);
    expect(new Set(results.map((r) => r.headSeq))).toEqual(new Set(['12']));
    const rows = await rowsOf();
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // One transaction: one recorded_at; the appends' rows in the order they were handed over.
    expect(new Set(rows.map((r) => r.recorded_at.getTime())).size).toBe(1);
    expect(rows.map((r) => r.kafka_partition)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);

    // A redelivery of some of those positions next to new ones: each append counts its own duplicates.
    const again = await Promise.all([writer.append(TOPIC, 0, batches[0]!), writer.append(TOPIC, 3, events(2))]);
    expect(again.map((r) => [r.inserted, r.duplicates])).toEqual([
      [0, 5],
      [2, 0],
    ]);
    expect((await verifyLedger(pool, new Map([[key.keyId, key.publicKey]]))).ok).toBe(true);
  });

  it('fails only the append whose record PostgreSQL refuses; the others are written', async () => {
    const before = (await rowsOf()).length;
    const poisoned = events(2);
    poisoned[1]!.event = sampleAuditEvent({ eventId: randomUUID(), actor: 'NUL\u0000inside' });
    const settled = await Promise.allSettled([
      writer.append(TOPIC, 4, events(3)),
      writer.append(TOPIC, 5, poisoned),
      writer.append(TOPIC, 6, events(2)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = await rowsOf();
    expect(rows.length).toBe(before + 5);
    expect(rows.filter((r) => r.kafka_partition === 5)).toHaveLength(0);
    const report = await verifyLedger(pool, new Map([[key.keyId, key.publicKey]]));
    expect(report).toMatchObject({ ok: true, rows: before + 5 });
  });
});
