import 'reflect-metadata';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DataSource } from 'typeorm';
import { createLogger, startService } from '@backbone/bootstrap';
import { alertCodec, auditEventCodec, type Alert, type AuditEvent } from '@backbone/codec';
import { DEFAULT_REFUSAL_AUDIT, KafkaConfig, SUBMITTED_PARTITIONS, topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, TcpProxy, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { PublisherConfig } from './config/publisher.config.js';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { submittedPartition } from './publishing/region.partitioner.js';
import { NoticePublisherModule } from './notice-publisher.module.js';
import { stableAlertBody } from './publisher.test-world.js';

const { Kafka: KafkaClient, logLevel } = kafkajs;

interface Seen {
  partition: number;
  offset: string;
  key: string;
  value: Buffer;
}

const BODY_LIMIT = 16 * 1024;
/** The publish deadline under test, and what an answer may add to it (HTTP, database, abort bookkeeping). */
const PUBLISH_TIMEOUT_MS = 3000;
const DEADLINE_MARGIN_MS = 1500;

const alertBody = stableAlertBody;

describe('notice-publisher against the real broker and database', () => {
  const prefix = `${uniqueName('np')}.`;
  const topics = topicNames(prefix);
  let db: TestDatabase;
  let ds: DataSource;
  let admin: Admin;
  let consumer: Consumer;
  let app: NestFastifyApplication;
  let url: string;
  let proxy: TcpProxy;
  const submitted: Seen[] = [];
  const audit: AuditEvent[] = [];
  const tokens: Record<string, string> = {};
  let revokedToken: string;

  const call = async (
    method: string,
    path: string,
    opts: { as?: string; token?: string; body?: unknown; raw?: string; key?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    const token = opts.token ?? (opts.as ? tokens[opts.as] : undefined);
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (opts.key) headers['idempotency-key'] = opts.key;
    let body: string | undefined;
    if (opts.raw !== undefined || opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = opts.raw ?? JSON.stringify(opts.body);
    }
    const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      json: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { errors?: { field: string; code: string }[] },
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'notice_publisher' });
    ds = await openPublisherDatabase(db.url, 2);
    const creds = new CredentialStore(ds);
    for (const agency of ['FR-NCB', 'DE-NCB', 'US-NCB']) tokens[agency] = (await creds.issue(agency)).token;
    revokedToken = (await creds.issue('NL-NCB')).token;
    await creds.revoke('NL-NCB');

    const connection = testKafkaConnection('admin');
    admin = testKafka('admin').admin();
    await admin.connect();
    await createTopics(admin, [topics.submitted], SUBMITTED_PARTITIONS);
    await createTopics(admin, [topics.audit], 3);

    consumer = testKafka('admin', uniqueName('np-reader')).consumer({ groupId: uniqueName('np-reader'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.submitted, topics.audit], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (topic === topics.submitted)
          submitted.push({ partition, offset: message.offset, key: message.key!.toString(), value: message.value! });
        else audit.push(auditEventCodec.decode(message.value!));
      },
    });

    // The app produces through a proxy it reaches by every broker address: closing it is "Kafka down".
    const [host, port] = connection.brokers[0]!.split(':') as [string, string];
    proxy = new TcpProxy(host, Number(port));
    await proxy.open();
    const proxied: Kafka = new KafkaClient({
      clientId: 'notice-publisher-test',
      brokers: connection.brokers,
      ...(connection.ssl !== undefined ? { ssl: connection.ssl } : {}),
      ...(connection.sasl ? { sasl: connection.sasl } : {}),
      connectionTimeout: 2000,
      // Connect retries that outlast the publish deadline (about 9 s in all), so the 503 comes from
      // the deadline and not from KafkaJS giving up; short pauses, so the retry after the outage
      // finds the broker within half a second of the proxy reopening.
      retry: { initialRetryTime: 100, maxRetryTime: 500, retries: 20 },
      logLevel: logLevel.NOTHING,
      socketFactory: ({ ssl, onConnect }) => {
        const options = typeof ssl === 'object' && ssl !== null ? ssl : {};
        return tls.connect({ ...options, host: '127.0.0.1', port: proxy.port }, onConnect);
      },
    });

    const config = PublisherConfig.of({
      PORT: 0,
      DATABASE_URL: db.url,
      BODY_LIMIT_BYTES: BODY_LIMIT,
      PUBLISH_FLUSH_INTERVAL_MS: 2,
      RETRY_AFTER_SECONDS: 3,
      PUBLISH_TIMEOUT_MS,
    });
    const service = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka: KafkaConfig.of(connection, prefix),
        config,
        kafkaClient: proxied,
        // Anonymous refusals are written per window: a short one so the refusal test sees them.
        refusalAudit: { ...DEFAULT_REFUSAL_AUDIT, REFUSAL_AGGREGATE_WINDOW_MS: 200 },
      }),
      logger: createLogger('notice-publisher-test', 'silent'),
      port: 0,
      bodyLimit: BODY_LIMIT,
      shutdownHooks: false,
    });
    app = service.app;
    url = service.url;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await consumer?.disconnect();
    await proxy?.close();
    if (admin) {
      await deleteTopics(admin, [topics.submitted, topics.audit]).catch(() => undefined);
      await admin.disconnect();
    }
    await ds?.destroy();
    await db?.drop();
  }, 60_000);

  const recordsOf = (alertId: string): Seen[] => submitted.filter((r) => r.key === alertId);

  it('publishes a created alert on its region partition as decodable Avro, with a SUBMITTED audit event carrying it', async () => {
    const started = performance.now();
    const res = await call('POST', '/alerts', { as: 'FR-NCB', body: alertBody({ sender: undefined }) });
    const ms = performance.now() - started;
    expect(res.status).toBe(201);
    const { alertId, version, partition, offset } = res.json as { alertId: string; version: number; partition: number; offset: string };
    expect(version).toBe(1);
    expect(partition).toBe(submittedPartition('EUROPE', alertId));
    const [record] = await pollUntil(() => (recordsOf(alertId).length === 1 ? recordsOf(alertId) : undefined), {
      description: 'the alert record',
      timeoutMs: 15_000,
    });
    expect(record!.partition).toBe(partition);
    expect(record!.offset).toBe(offset);
    const alert: Alert = alertCodec.decode(record!.value);
    expect(alert).toMatchObject({
      alertId,
      version: 1,
      sender: 'FR-NCB',
      senderRegion: 'EUROPE',
      msgType: 'Alert',
      references: [],
      headline: 'Wanted for armed robbery',
    });
    const event = await pollUntil(() => audit.find((e) => e.type === 'SUBMITTED' && e.alertId === alertId), {
      description: 'SUBMITTED audit event',
    });
    expect(event.payload?.equals(record!.value)).toBe(true);
    expect(event.actor).toBe('FR-NCB');
    process.stderr.write(`create latency (first request, includes producer connect): ${ms.toFixed(1)} ms\n`);
  });

  it('keeps an update and a cancel on the original partition, after it, referencing the previous version', async () => {
    const created = await call('POST', '/alerts', { as: 'FR-NCB', body: alertBody() });
    const id = created.json['alertId'] as string;
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await call('POST', '/alerts', { as: 'FR-NCB', body: alertBody({ headline: `latency probe ${i}` }) });
      times.push(performance.now() - t);
      expect(r.status).toBe(201);
    }
    process.stderr.write(`create latency warm (ms): ${times.map((t) => t.toFixed(1)).join(', ')}\n`);
    const updated = await call('POST', `/alerts/${id}/updates`, {
      as: 'FR-NCB',
      body: alertBody({ headline: 'Wanted: armed robbery (photo added)' }),
    });
    expect(updated.status).toBe(201);
    expect(updated.json).toMatchObject({ alertId: id, version: 2, msgType: 'Update', partition: created.json['partition'] });
    expect(BigInt(updated.json['offset'] as string)).toBeGreaterThan(BigInt(created.json['offset'] as string));
    const cancelled = await call('POST', `/alerts/${id}/cancel`, { as: 'FR-NCB', body: { note: 'Subject arrested in Madrid' } });
    expect(cancelled.status).toBe(201);
    expect(cancelled.json).toMatchObject({ version: 3, msgType: 'Cancel', partition: created.json['partition'] });

    const records = await pollUntil(() => (recordsOf(id).length === 3 ? recordsOf(id) : undefined), {
      description: 'three versions',
      timeoutMs: 15_000,
    });
    const decoded = records.map((r) => alertCodec.decode(r.value));
    expect(decoded.map((a) => [a.version, a.msgType])).toEqual([
      [1, 'Alert'],
      [2, 'Update'],
      [3, 'Cancel'],
    ]);
    expect(decoded[1]!.references).toEqual([{ alertId: id, version: 1 }]);
    expect(decoded[2]!.references).toEqual([{ alertId: id, version: 2 }]);
    expect(decoded[2]!.description).toBe('Subject arrested in Madrid');
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);

    const status = await call('GET', `/alerts/${id}`, { as: 'FR-NCB' });
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ alertId: id, state: 'cancelled', latestVersion: 3 });
    expect((status.json['versions'] as unknown[]).length).toBe(3);

    const again = await call('POST', `/alerts/${id}/updates`, { as: 'FR-NCB', body: alertBody() });
    expect(again.status).toBe(409);

    const list = await call('GET', '/alerts?limit=2', { as: 'FR-NCB' });
    expect(list.status).toBe(200);
    expect((list.json['items'] as unknown[]).length).toBe(2);
    expect(list.json['total']).toBeGreaterThanOrEqual(7);
    const otherList = await call('GET', '/alerts', { as: 'US-NCB' });
    expect(otherList.json['total']).toBe(0);
  });

  it('publishes once for retried and concurrent requests with one Idempotency-Key', async () => {
    const key = uniqueName('idem');
    const body = alertBody({ headline: `idempotent ${key}` });
    const first = await call('POST', '/alerts', { as: 'DE-NCB', body, key });
    const retry = await call('POST', '/alerts', { as: 'DE-NCB', body, key });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const reused = await call('POST', '/alerts', { as: 'DE-NCB', body: alertBody({ headline: 'something else' }), key });
    expect(reused.status).toBe(422);

    const key2 = uniqueName('idem-concurrent');
    const body2 = alertBody({ headline: `concurrent ${key2}` });
    const answers = await Promise.all(Array.from({ length: 6 }, () => call('POST', '/alerts', { as: 'DE-NCB', body: body2, key: key2 })));
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    expect(new Set(created.map((a) => a.json['alertId'])).size).toBe(1);
    // Give any stray second publish the time to show up before counting.
    const done = await call('POST', '/alerts', { as: 'DE-NCB', body: body2, key: key2 });
    expect(done.status).toBe(201);
    await pollUntil(
      () => recordsOf(first.json['alertId'] as string).length === 1 && recordsOf(done.json['alertId'] as string).length === 1,
      { description: 'the records' },
    );
    const headlines = submitted.map((r) => alertCodec.decode(r.value).headline);
    expect(headlines.filter((h) => h === `idempotent ${key}`)).toHaveLength(1);
    expect(headlines.filter((h) => h === `concurrent ${key2}`)).toHaveLength(1);
  });

  it('replays a create for its Idempotency-Key even after the body stopped validating (expires passed)', async () => {
    const key = uniqueName('idem-expired');
    const expires = new Date(Date.now() + 1500);
    const body = alertBody({ headline: `expiring ${key}`, expires: expires.toISOString() });
    const first = await call('POST', '/alerts', { as: 'DE-NCB', body, key });
    expect(first.status).toBe(201);
    // Waits for the wall clock itself: the retry must come after `expires`.
    await pollUntil(() => Date.now() > expires.getTime() + 50, { description: 'expires to pass' });
    const retry = await call('POST', '/alerts', { as: 'DE-NCB', body, key });
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('refuses missing, bad and revoked credentials (401) and other offices (403), auditing each as REJECTED', async () => {
    const created = await call('POST', '/alerts', { as: 'FR-NCB', body: alertBody() });
    const id = created.json['alertId'] as string;
    const none = await call('POST', '/alerts', { body: alertBody() });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const forged = tokens['FR-NCB']!.slice(0, -1) + (tokens['FR-NCB']!.endsWith('A') ? 'B' : 'A');
    expect((await call('POST', '/alerts', { token: forged, body: alertBody() })).status).toBe(401);
    expect((await call('POST', '/alerts', { token: 'not-a-token', body: alertBody() })).status).toBe(401);
    expect((await call('GET', '/alerts', { token: revokedToken })).status).toBe(401);

    const foreignUpdate = await call('POST', `/alerts/${id}/updates`, { as: 'DE-NCB', body: alertBody() });
    expect(foreignUpdate.status).toBe(403);
    expect((await call('POST', `/alerts/${id}/cancel`, { as: 'DE-NCB' })).status).toBe(403);
    expect((await call('GET', `/alerts/${id}`, { as: 'DE-NCB' })).status).toBe(403);
    expect((await call('GET', `/alerts/00000000-0000-4000-8000-000000000000`, { as: 'DE-NCB' })).status).toBe(404);

    const reasons = await pollUntil(
      () => {
        const r = audit.filter((e) => e.type === 'REJECTED').map((e) => `${e.reason}:${e.actor ?? '-'}`);
        // The refusals are audited after their answers, possibly in separate commits: wait for all three 403s.
        const all = ['missing-credential:-', 'unknown-credential:-', 'malformed-credential:-', 'revoked-credential:-'].every((x) =>
          r.includes(x),
        );
        return all && r.filter((x) => x === 'not-owner:DE-NCB').length >= 3 ? r : undefined;
      },
      { description: 'REJECTED audit events', timeoutMs: 15_000 },
    );
    expect(reasons.filter((r) => r === 'not-owner:DE-NCB').length).toBeGreaterThanOrEqual(3);
    expect(audit.find((e) => e.type === 'REJECTED' && e.reason === 'not-owner')?.alertId).toBe(id);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['schema: missing field', { headline: undefined }, '/headline', 'required'],
    ['schema: wrong type', { informationAccuracy: 'two' }, '/informationAccuracy', 'invalid-type'],
    ['schema: enum', { severity: 'Apocalyptic' }, '/severity', 'invalid-enum'],
    ['unknown field', { colour: 'red' }, '/colour', 'unknown-field'],
    ['sender in body', { sender: 'DE-NCB' }, '/sender', 'forbidden-field'],
    ['unknown agency', { addressing: { mode: 'EXPLICIT', agencies: ['XX-NCB'] } }, '/addressing/agencies/0', 'unknown-agency'],
    ['unknown releasableTo', { releasableTo: ['QQ-NCB'] }, '/releasableTo/0', 'unknown-agency'],
    ['unknown neverTo', { neverTo: ['QQ-NCB'] }, '/neverTo/0', 'unknown-agency'],
    ['unknown consented', { consentedThirdCountries: ['QQ-NCB'] }, '/consentedThirdCountries/0', 'unknown-agency'],
    ['non-ISO area country', { area: { description: 'x', countries: ['XK1'] } }, '/area/countries/0', 'unknown-country'],
    ['non-ISO doNotActOn', { doNotActOn: ['UK'] }, '/doNotActOn/0', 'unknown-country'],
    ['non-ISO nationality', { subject: { nationalities: ['EU'] } }, '/subject/nationalities/0', 'unknown-country'],
    [
      'non-ISO issuing country',
      { subject: { identityDocuments: [{ kind: 'PASSPORT', number: 'A1', issuingCountry: 'ZZ' }] } },
      '/subject/identityDocuments/0/issuingCountry',
      'unknown-country',
    ],
    ['past expiry', { expires: '2020-01-01T00:00:00Z' }, '/expires', 'expired'],
    ['DIFFUSION without addresses', { noticeType: 'DIFFUSION' }, '/addressing/mode', 'addresses-required'],
    ['Private without addresses', { scope: 'Private' }, '/addressing/mode', 'addresses-required'],
    ['Exercise without exerciseId', { status: 'Exercise' }, '/exerciseId', 'exercise-id-required'],
  ])('refuses over HTTP with a named field error: %s', async (_, overrides, field, code) => {
    const res = await call('POST', '/alerts', { as: 'US-NCB', body: alertBody(overrides) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.json['errors']).toContainEqual(expect.objectContaining({ field, code }));
  });

  it('refuses a body over the limit with 413, and reference/updates of unknown alerts with 404', async () => {
    const res = await call('POST', '/alerts', { as: 'US-NCB', body: alertBody({ description: 'x'.repeat(BODY_LIMIT + 10) }) });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const malformed = await call('POST', '/alerts', { as: 'US-NCB', raw: '{"headline": ' });
    expect(res.json['reason']).toBe('payload-too-large');
    expect(malformed.status).toBe(400);
    expect(malformed.json['reason']).toBe('malformed-request');
    const unknown = await call('POST', '/alerts/00000000-0000-4000-8000-000000000000/updates', { as: 'US-NCB', body: alertBody() });
    expect(unknown.status).toBe(404);
    await pollUntil(
      () =>
        audit.some((e) => e.type === 'REJECTED' && e.reason === 'payload-too-large') &&
        audit.some((e) => e.reason === 'validation-failed' && e.actor === 'US-NCB'),
      {
        description: 'REJECTED events for 413 and validation',
        timeoutMs: 15_000,
      },
    );
  });

  it('answers 503 with Retry-After within the publish deadline while Kafka is unreachable, then a retry with the same key publishes exactly once', async () => {
    const key = uniqueName('outage');
    const body = alertBody({ headline: `outage ${key}` });
    await proxy.close();
    let down;
    let elapsedMs;
    try {
      const started = performance.now();
      down = await call('POST', '/alerts', { as: 'FR-NCB', body, key });
      elapsedMs = performance.now() - started;
    } finally {
      await proxy.open();
    }
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('3');
    expect(down.json['reason']).toBe('kafka-unavailable');
    // A bound, not a sleep: the client was still retrying its connect when the deadline answered.
    expect(elapsedMs).toBeLessThan(PUBLISH_TIMEOUT_MS + DEADLINE_MARGIN_MS);
    // The reservation was released: the key is free again, not stuck "in progress".
    expect((await ds.query('SELECT 1 FROM idempotency_keys WHERE agency = $1 AND idem_key = $2', ['FR-NCB', key])).length).toBe(0);

    const up = await call('POST', '/alerts', { as: 'FR-NCB', body, key });
    expect(up.status).toBe(201);
    const again = await call('POST', '/alerts', { as: 'FR-NCB', body, key });
    expect(again.json).toEqual(up.json);
    await pollUntil(() => recordsOf(up.json['alertId'] as string).length === 1, {
      description: 'the record after the outage',
      timeoutMs: 15_000,
    });
    // Still exactly one after a later publish went through the same producer: the attempt
    // abandoned at the deadline never commits, not even once the broker is back.
    const sentinel = await call('POST', '/alerts', { as: 'FR-NCB', body: alertBody({ headline: `after outage ${key}` }) });
    expect(sentinel.status).toBe(201);
    await pollUntil(() => recordsOf(sentinel.json['alertId'] as string).length === 1, {
      description: 'the sentinel after the outage',
      timeoutMs: 15_000,
    });
    expect(submitted.filter((r) => alertCodec.decode(r.value).headline === `outage ${key}`)).toHaveLength(1);
  }, 60_000);

  it('serves its OpenAPI description', async () => {
    const res = await call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.json['paths'] as object)).toEqual(
      expect.arrayContaining(['/alerts', '/alerts/{id}', '/alerts/{id}/updates', '/alerts/{id}/cancel']),
    );
  });
});
