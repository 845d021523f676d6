import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { topicNames, type TopicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { startTestAuditLogger as startAuditLogger, type RunningAuditLogger } from './audit-logger.test-kit.js';

// Attacker side: a compliance user (a legitimate token) tries to make what-if read files of its
// choosing, or to learn where the server keeps its files from the error texts.

const kafka = testKafka('admin', uniqueName('what-if-paths'));
let admin: Admin;
let db: TestDatabase;
let topics: TopicNames;
let prefix: string;
let running: RunningAuditLogger;
let token: string;
const since = new Date(Date.now() - 3_600_000).toISOString();
const until = new Date(Date.now() + 3_600_000).toISOString();
const serverPaths = [resolve('policies'), process.cwd(), tmpdir()];

async function whatIf(body: Record<string, unknown>): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  const res = await fetch(`${running.url}/compliance/what-if`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ since, until, ...body }),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

beforeAll(async () => {
  prefix = `${uniqueName('wi')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.audit], 1);
  db = await createTestDatabase({ label: 'what_if_paths' });
  running = await startAuditLogger({
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: await provisionLedger(db.url),
    signingKeyFile: join(mkdtempSync(join(tmpdir(), 'what-if-')), 'signing-key.pem'),
    groupId: uniqueName('what-if'),
  });
  token = (await issueComplianceUser(running.pool, 'mallory')).token;
}, 60_000);

afterAll(async () => {
  await running?.close();
  await deleteTopics(admin, [topics.audit]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
}, 60_000);

describe('what-if never takes a server path from the network', () => {
  it.each([
    ['an absolute directory that holds a policy', { policy: resolve('policies') }],
    ['a relative directory', { policy: 'policies' }],
    ['a traversal', { policyVersion: '../../../etc' }],
    ['a system directory', { policyVersion: '/etc' }],
    ['a version with a path suffix', { policyVersion: '2026-11-01/../../x' }],
  ])('refuses %s with a reason, without naming server paths', async (_label, body) => {
    const r = await whatIf(body);
    expect(r.status).toBe(400);
    expect(r.json['reason']).toBe('not-a-policy-version');
    for (const p of serverPaths) expect(r.text).not.toContain(p);
  });

  it('an unknown version is refused without revealing where the policies live', async () => {
    const r = await whatIf({ policyVersion: '2099-01-01' });
    expect(r.status).toBe(400);
    expect(r.json['reason']).toBe('invalid-policy');
    expect(r.text).toContain('no policy version 2099-01-01');
    for (const p of serverPaths) expect(r.text).not.toContain(p);
  });

  it('an invalid policy document in the body is refused without server paths', async () => {
    const r = await whatIf({ policyDocument: 'version: "2026-12-01"\ndescription: x\nrules: [{ id: a, kind: nonsense }]\n' });
    expect(r.status).toBe(400);
    expect(r.json['reason']).toBe('invalid-policy');
    for (const p of serverPaths) expect(r.text).not.toContain(p);
  });

  it('accepts a version under the policies directory and a document in the body', async () => {
    const byVersion = await whatIf({ policyVersion: '2026-11-01' });
    expect(byVersion.status).toBe(200);
    expect(byVersion.json).toMatchObject({ alertsEvaluated: 0 });
    const text = readFileSync(join('policies', 'rules', '2026-11-01.yaml'), 'utf8').replace(/^version: .*$/m, 'version: "2026-12-01"');
    const byDocument = await whatIf({ policyDocument: text });
    expect(byDocument.status).toBe(200);
    const both = await whatIf({ policyVersion: '2026-11-01', policyDocument: text });
    expect(both.status).toBe(400);
  });
});
