// The per-request statements that concurrent requests share (StatementBatcher): one batch must
// answer every caller exactly as one statement per caller would have, on the real database.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { AlertStore } from './alert.store.js';
import { IdempotencyStore } from './idempotency.store.js';

describe('batched publisher statements (real PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let alerts: AlertStore;

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'publisher_batches' });
    ds = await openPublisherDatabase(db.url);
    alerts = new AlertStore(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const record = Buffer.from([0xc3, 0x01, 0x00, 0x5c, 0x27, 0x22]);

  it('concurrent reservations of one version: exactly one wins, in or across batches; the others find it taken', async () => {
    const alertId = randomUUID();
    const sent = new Date('2026-11-29T08:00:00.123Z');
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => alerts.reserveVersion(alertId, 2, 'Update', sent, record)));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    // Already reserved by an earlier batch: taken.
    expect(await alerts.reserveVersion(alertId, 2, 'Update', sent, record)).toBe(false);
    const rows = (await ds.query('SELECT state, sent, record, msg_type FROM alert_versions WHERE alert_id = $1', [alertId])) as {
      state: string;
      sent: Date;
      record: Buffer;
      msg_type: string;
    }[];
    expect(rows).toEqual([{ state: 'pending', sent, record, msg_type: 'Update' }]);
  });

  it('reservations of different alerts in one batch all win, each with its own record', async () => {
    const ids = Array.from({ length: 30 }, () => randomUUID());
    const sent = new Date();
    const outcomes = await Promise.all(ids.map((id, i) => alerts.reserveVersion(id, 1, 'Alert', sent, Buffer.from([i]))));
    expect(outcomes.every(Boolean)).toBe(true);
    const rows = (await ds.query('SELECT alert_id, record FROM alert_versions WHERE alert_id = ANY($1::uuid[])', [ids])) as {
      alert_id: string;
      record: Buffer;
    }[];
    expect(new Map(rows.map((r) => [r.alert_id, r.record[0]]))).toEqual(new Map(ids.map((id, i) => [id, i])));
  });

  it('originals recorded together: each alert row and published version 1, the reservation completed, idempotent', async () => {
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const sent = new Date('2026-11-29T08:01:02.345Z');
    await Promise.all(ids.map((id) => alerts.reserveVersion(id, 1, 'Alert', sent, record)));
    const original = (id: string, i: number) =>
      alerts.recordCreated(
        {
          alertId: id,
          sender: 'FR-NCB',
          senderRegion: 'EUROPE',
          noticeType: 'RED',
          headline: `h"\\${i}`,
          content: JSON.stringify({ headline: `h"\\${i}`, n: i }),
        },
        sent,
        i % 4,
        String(9_007_199_254_740_993n + BigInt(i)),
      );
    // Each twice at once (the request and the reconciler), so some batches hold the same alert twice.
    await Promise.all([...ids.map(original), ...ids.map(original)]);
    for (const [i, id] of ids.entries()) {
      const a = await alerts.find(id);
      expect(a).toMatchObject({ sender: 'FR-NCB', state: 'active', latestVersion: 1, headline: `h"\\${i}`, content: { n: i } });
      expect(await alerts.versions(id)).toEqual([
        { version: 1, msgType: 'Alert', state: 'published', partition: i % 4, offset: String(9_007_199_254_740_993n + BigInt(i)), sent },
      ]);
    }
    const kept = (await ds.query('SELECT count(*)::int AS n FROM alert_versions WHERE alert_id = ANY($1::uuid[]) AND record IS NOT NULL', [
      ids,
    ])) as { n: number }[];
    expect(kept[0]?.n).toBe(0);
  });

  it('credential lookups in one batch: each token gets its own answer (valid, revoked, unknown, another agency)', async () => {
    const store = new CredentialStore(ds);
    const fr = await store.issue('FR-NCB');
    const de = await store.issue('DE-NCB');
    const gone = await store.issue('IT-NCB');
    await store.revoke('IT-NCB');
    const forged = `${fr.tokenId}.${'A'.repeat(43)}`;
    const answers = await Promise.all([fr.token, de.token, gone.token, forged, fr.token, 'not-a-token'].map((t) => store.verify(t)));
    expect(answers).toEqual([
      { ok: true, agency: 'FR-NCB', tokenId: fr.tokenId },
      { ok: true, agency: 'DE-NCB', tokenId: de.tokenId },
      { ok: false, reason: 'revoked-credential' },
      { ok: false, reason: 'unknown-credential' },
      { ok: true, agency: 'FR-NCB', tokenId: fr.tokenId },
      { ok: false, reason: 'malformed-credential' },
    ]);
  });

  it('Idempotency-Keys in one batch: one reservation per key, the others in progress, mismatched or replayed as one by one', async () => {
    const keys = new IdempotencyStore(ds);
    const owner = { transactionalId: 'notice-publisher-batch', bootId: randomUUID() };
    const done = `done-${randomUUID()}`;
    expect(await keys.reserve('FR-NCB', done, 'h-done', owner)).toEqual({ kind: 'reserved' });
    const alertId = randomUUID();
    expect(await keys.attach('FR-NCB', done, alertId, 1)).toBe(true);
    await keys.complete('FR-NCB', done, { statusCode: 201, body: { alertId, version: 1, note: 'it\'s "quoted"' } });

    const fresh = `fresh-${randomUUID()}`;
    const answers = await Promise.all([
      keys.reserve('FR-NCB', fresh, 'h1', owner),
      keys.reserve('FR-NCB', fresh, 'h1', owner),
      keys.reserve('FR-NCB', fresh, 'h2', owner),
      // The same key of another agency is another key.
      keys.reserve('DE-NCB', fresh, 'h1', owner),
      keys.reserve('FR-NCB', done, 'h-done', owner),
      keys.reserve('FR-NCB', done, 'h-other', owner),
    ]);
    expect(answers).toEqual([
      { kind: 'reserved' },
      { kind: 'in-progress' },
      { kind: 'mismatch' },
      { kind: 'reserved' },
      { kind: 'replay', response: { statusCode: 201, body: { alertId, version: 1, note: 'it\'s "quoted"' } } },
      { kind: 'mismatch' },
    ]);
    expect(await keys.pending('FR-NCB', fresh)).toMatchObject({ alertId: null, version: null, owner });

    // Attached together; a released key is not attached (its request must not publish).
    const released = `released-${randomUUID()}`;
    await keys.reserve('FR-NCB', released, 'h', owner);
    await keys.release('FR-NCB', released);
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    expect(
      await Promise.all([keys.attach('FR-NCB', fresh, a, 1), keys.attach('DE-NCB', fresh, b, 3), keys.attach('FR-NCB', released, c, 1)]),
    ).toEqual([true, true, false]);
    expect(await keys.pending('DE-NCB', fresh)).toMatchObject({ alertId: b, version: 3 });
    await Promise.all([
      keys.complete('FR-NCB', fresh, { statusCode: 201, body: { alertId: a } }),
      keys.complete('DE-NCB', fresh, { statusCode: 201, body: { alertId: b } }),
    ]);
    expect(await keys.reserve('DE-NCB', fresh, 'h1', owner)).toEqual({
      kind: 'replay',
      response: { statusCode: 201, body: { alertId: b } },
    });
  });

  it("the reconciler's release (older than the settle time) leaves a reservation made again meanwhile, and its key, alone", async () => {
    const keys = new IdempotencyStore(ds);
    const alertId = randomUUID();
    const [oldKey, freshKey] = [`old-${randomUUID()}`, `fresh-${randomUUID()}`];
    // What the reconciler probed: a reservation and a key a crash left a minute ago.
    await ds.query(
      `INSERT INTO alert_versions (alert_id, version, msg_type, state, sent, record, reserved_at) VALUES ($1, 2, 'Update', 'pending', now(), $2, now() - interval '1 minute')`,
      [alertId, record],
    );
    await ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state, alert_id, alert_version, created_at)
       VALUES ('FR-NCB', $1, 'h', 'pending', $2, 2, now() - interval '1 minute')`,
      [oldKey, alertId],
    );
    await alerts.releaseVersion(alertId, 2, 30_000);
    expect(await keys.releaseFor(alertId, 2, 30_000)).toBe(1);
    // A request settled it first and reserved the version again, under another key: not the reconciler's.
    expect(await alerts.reserveVersion(alertId, 2, 'Update', new Date(), record)).toBe(true);
    await keys.reserve('FR-NCB', freshKey, 'h');
    expect(await keys.attach('FR-NCB', freshKey, alertId, 2)).toBe(true);
    await alerts.releaseVersion(alertId, 2, 30_000);
    expect(await keys.releaseFor(alertId, 2, 30_000)).toBe(0);
    expect(await alerts.pendingVersion(alertId, 2)).toBeDefined();
    expect(await keys.pending('FR-NCB', freshKey)).toMatchObject({ alertId, version: 2 });
    // A request's own release (nothing reached Kafka) has no age condition.
    await alerts.releaseVersion(alertId, 2);
    expect(await alerts.pendingVersion(alertId, 2)).toBeUndefined();
  });
});
