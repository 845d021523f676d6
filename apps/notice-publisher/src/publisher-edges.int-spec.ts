// The publisher's edges against the real broker and PostgreSQL: what no store can hold is refused
// before Kafka, and what a crash or a failed database write leaves half done heals (reconciler).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { alertCodec } from '@backbone/codec';
import { pollUntil, uniqueName } from '@backbone/testing';
import { PublisherTestWorld, stableAlertBody, type SubmittedRecord } from './publisher.test-world.js';

describe('notice-publisher edges: storable rules and the reconciler', () => {
  const world = new PublisherTestWorld('npe');
  const topics = world.topics;
  const tokens = world.tokens;
  let ds: DataSource;
  let admin: Admin;

  const call = async (method: string, path: string, opts: { as: string; body?: unknown; key?: string }) => {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens[opts.as]}` };
    if (opts.key) headers['idempotency-key'] = opts.key;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${world.url}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown>,
    };
  };

  const allSubmitted = (): Promise<SubmittedRecord[]> => world.allSubmitted();
  const versionsOnKafka = async (alertId: string): Promise<number[]> =>
    (await allSubmitted()).filter((r) => r.key === alertId).map((r) => alertCodec.decode(r.value).version);

  beforeAll(async () => {
    await world.open(['FR-NCB', 'DE-NCB'], async (ds) => {
      // A switch the test flips to make the publisher's bookkeeping writes fail, as a database
      // outage right after the Kafka commit would: version records, alert rows and key answers.
      await ds.query(`CREATE TABLE fail_writes (on_ boolean)`);
      await ds.query(`CREATE FUNCTION fail_if_switched() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM fail_writes) AND (TG_TABLE_NAME = 'alerts' OR NEW.state IN ('published', 'done')) THEN
            RAISE EXCEPTION 'simulated database failure';
          END IF;
          RETURN NEW;
        END $$`);
      for (const table of ['alerts', 'alert_versions', 'idempotency_keys']) {
        await ds.query(`CREATE TRIGGER fail_${table} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION fail_if_switched()`);
      }
    });
    ds = world.ds;
    admin = world.admin;

    // Settles pending work 3 s after it was reserved (PUBLISH_TIMEOUT_MS + 1 s), checking every 300 ms.
    await world.startPublisher({
      PUBLISH_FLUSH_INTERVAL_MS: 2,
      PUBLISH_TIMEOUT_MS: 2000,
      RECONCILE_INTERVAL_MS: 300,
      RECONCILE_SETTLE_MS: 0,
      IDEMPOTENCY_RETENTION_HOURS: 1,
    });
  }, 120_000);

  afterAll(async () => {
    await world.close();
  }, 60_000);

  it('refuses a NUL in the headline with 400 naming /headline, and no alert reaches Kafka', async () => {
    // A first alert, so the producer is connected and the offsets below are the settled ones.
    expect((await call('POST', '/alerts', { as: 'FR-NCB', body: stableAlertBody() })).status).toBe(201);
    const before = (await admin.fetchTopicOffsets(topics.submitted)).map((o) => o.high);
    const res = await call('POST', '/alerts', {
      as: 'FR-NCB',
      body: stableAlertBody({ headline: 'Wanted\u0000 for robbery' }),
      key: uniqueName('nul'),
    });
    expect(res.status).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    // Refused at the edge of every service (the shared storable rules), before the handler.
    expect(res.json).toMatchObject({ reason: 'unstorable-value', errors: [{ field: '/headline', code: 'nul-character' }] });
    const lone = await call('POST', '/alerts', { as: 'FR-NCB', body: stableAlertBody({ subject: { forenames: 'Jo\ud800' } }) });
    expect(lone.status).toBe(400);
    expect(lone.json).toMatchObject({ errors: [{ field: '/subject/forenames', code: 'lone-surrogate' }] });
    const badKey = await call('POST', '/alerts', { as: 'FR-NCB', body: { ...stableAlertBody(), ['x\u0000y']: 1 } });
    expect(badKey.json).toMatchObject({ errors: [{ field: '/x\ufffdy', code: 'nul-character' }] });
    // Not even an aborted transaction: a transactional write would have moved the end offsets.
    // (audit.events does get the REJECTED events of the refusals, with storable details.)
    const after = (await admin.fetchTopicOffsets(topics.submitted)).map((o) => o.high);
    expect(after).toEqual(before);
  });

  it('answers 201 for an alert committed while the database fails, and heals: the retry gets the same alert, published once', async () => {
    const key = uniqueName('crash-create');
    const body = stableAlertBody({ headline: `committed while the database failed ${key}` });
    await ds.query(`INSERT INTO fail_writes VALUES (true)`);
    const first = await call('POST', '/alerts', { as: 'FR-NCB', body, key });
    await ds.query(`DELETE FROM fail_writes`);
    expect(first.status).toBe(201);
    const alertId = first.json['alertId'] as string;
    // Until healed, a retry is told to wait (409, never a second publish); then it gets the first answer.
    const retry = await pollUntil(
      async () => {
        const r = await call('POST', '/alerts', { as: 'FR-NCB', body, key });
        if (r.status === 409) expect(r.json['reason']).toBe('idempotency-key-in-progress');
        else expect(r.status).toBe(201);
        return r.status === 201 ? r : undefined;
      },
      { description: 'the retry answered', timeoutMs: 20_000, intervalMs: 200 },
    );
    expect(retry.json).toEqual(first.json);
    const status = await call('GET', `/alerts/${alertId}`, { as: 'FR-NCB' });
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({
      state: 'active',
      latestVersion: 1,
      versions: [{ version: 1, state: 'published', offset: first.json['offset'] }],
    });
    expect(await versionsOnKafka(alertId)).toEqual([1]);
  });

  it('an update committed while the database fails is recorded later, so the office can update and cancel again', async () => {
    const created = await call('POST', '/alerts', { as: 'DE-NCB', body: stableAlertBody({ headline: 'to be updated' }) });
    const alertId = created.json['alertId'] as string;
    await ds.query(`INSERT INTO fail_writes VALUES (true)`);
    const updated = await call('POST', `/alerts/${alertId}/updates`, {
      as: 'DE-NCB',
      body: stableAlertBody({ headline: 'updated while PostgreSQL failed' }),
    });
    await ds.query(`DELETE FROM fail_writes`);
    expect(updated.status).toBe(201);
    expect(updated.json).toMatchObject({ version: 2 });
    await pollUntil(async () => (await call('GET', `/alerts/${alertId}`, { as: 'DE-NCB' })).json['latestVersion'] === 2, {
      description: 'version 2 recorded by the reconciler',
      timeoutMs: 20_000,
    });
    const cancel = await call('POST', `/alerts/${alertId}/cancel`, { as: 'DE-NCB', body: { note: 'withdrawn' } });
    expect(cancel.status).toBe(201);
    expect(cancel.json).toMatchObject({ version: 3, msgType: 'Cancel' });
    expect(await versionsOnKafka(alertId)).toEqual([1, 2, 3]);
  });

  it('a reservation a crash left pending before Kafka is released: the retry publishes exactly once and updates go on', async () => {
    const created = await call('POST', '/alerts', { as: 'FR-NCB', body: stableAlertBody({ headline: 'crash before Kafka' }) });
    const alertId = created.json['alertId'] as string;
    const [v1] = (await allSubmitted()).filter((r) => r.key === alertId);
    const record = alertCodec.encode({
      ...alertCodec.decode(v1!.value),
      version: 2,
      msgType: 'Update',
      references: [{ alertId, version: 1 }],
    });
    const body = stableAlertBody({ headline: 'retried after the crash' });
    const key = uniqueName('crash-before-kafka');
    const hash = createHash('sha256')
      .update(`POST /alerts/${alertId}/updates ${JSON.stringify(body)}`)
      .digest('hex');
    // What a process killed between reserving and publishing leaves behind, a minute ago.
    await ds.query(
      `INSERT INTO alert_versions (alert_id, version, msg_type, state, sent, record, reserved_at) VALUES ($1, 2, 'Update', 'pending', now(), $2, now() - interval '1 minute')`,
      [alertId, record],
    );
    await ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state, alert_id, alert_version, created_at)
       VALUES ('FR-NCB', $1, $2, 'pending', $3, 2, now() - interval '1 minute')`,
      [key, hash, alertId],
    );
    const retry = await call('POST', `/alerts/${alertId}/updates`, { as: 'FR-NCB', body, key });
    expect(retry.status).toBe(201);
    expect(retry.json).toMatchObject({ alertId, version: 2 });
    const again = await call('POST', `/alerts/${alertId}/updates`, { as: 'FR-NCB', body, key });
    expect(again.json).toEqual(retry.json);
    expect(await versionsOnKafka(alertId)).toEqual([1, 2]);
    const cancel = await call('POST', `/alerts/${alertId}/cancel`, { as: 'FR-NCB' });
    expect(cancel.json).toMatchObject({ version: 3 });
  });

  it('a key a crash left pending before any version was attached is released; answered keys expire after the retention', async () => {
    const body = stableAlertBody({ headline: 'crash before the version was reserved' });
    const key = uniqueName('crash-unattached');
    const hash = createHash('sha256')
      .update(`POST /alerts ${JSON.stringify(body)}`)
      .digest('hex');
    await ds.query(
      `INSERT INTO idempotency_keys (agency, idem_key, request_hash, state, created_at) VALUES ('DE-NCB', $1, $2, 'pending', now() - interval '1 minute')`,
      [key, hash],
    );
    const retry = await call('POST', '/alerts', { as: 'DE-NCB', body, key });
    expect(retry.status).toBe(201);
    expect(await versionsOnKafka(retry.json['alertId'] as string)).toEqual([1]);

    // Answered two hours ago, with a retention of one hour: forgotten by the next run.
    await ds.query(`UPDATE idempotency_keys SET created_at = now() - interval '2 hours' WHERE agency = 'DE-NCB' AND idem_key = $1`, [key]);
    await pollUntil(
      async () =>
        ((await ds.query(`SELECT 1 FROM idempotency_keys WHERE agency = 'DE-NCB' AND idem_key = $1`, [key])) as unknown[]).length === 0,
      {
        description: 'the expired key forgotten',
        timeoutMs: 10_000,
      },
    );
  });
});
