// HTTP fuzz of every route of every service (publisher, gate, subscriber, audit logger), started
// for real against the real broker and PostgreSQL. Inputs are generated and mutated from a seed
// (printed, so any run can be repeated): methods, paths and path parameters, headers (credentials
// of every role, content types, idempotency keys), query strings and bodies (valid requests
// mutated field by field, NUL and lone surrogates, wrong types, random JSON, broken JSON).
// The property: no answer is a 5xx, and every refusal (4xx) is problem+json with a `reason`.
import 'reflect-metadata';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashToken, issueToken } from '@backbone/auth';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { KafkaConfig, SUBMITTED_PARTITIONS, topicNames } from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { loadRegistry } from '@backbone/policy';
import { alertInput, createTopics, deleteTopics, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { startTestSubscriber, type RunningAgencySubscriber } from '../../apps/agency-subscriber/src/subscriber.test-kit.js';
import type { AuditLedgerRuntime } from '../../apps/audit-logger/src/audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from '../../apps/audit-logger/src/audit-logger.module.js';
import { COMPLIANCE_REPLAYER_ROLE, issueComplianceUser, provisionLedger } from '@backbone/ledger';
import { PublisherConfig } from '../../apps/notice-publisher/src/config/publisher.config.js';
import { NoticePublisherModule } from '../../apps/notice-publisher/src/notice-publisher.module.js';
import { CredentialStore, openPublisherDatabase } from '@backbone/office-store';
import { startTestGate, type TestGate } from '../../apps/policy-gate/src/testing/gate-test.harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const POLICIES = join(ROOT, 'policies');
const AGENCY = 'DE-NCB';

export interface HttpFuzzOptions {
  seed: number;
  /** Requests to send in all (spread over every route of every service). */
  inputs: number;
  log: (line: string) => void;
  /** Requests in flight at once. */
  concurrency?: number;
}

export interface HttpFuzzResult {
  inputs: number;
  /** Answers >= 500 (or no answer within the deadline). */
  serverErrors: number;
  /** 4xx answers that are not problem+json with a `reason`. */
  unreasoned: number;
  /** The first failures, each reproducible from the seed and its index. */
  failures: string[];
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

type Role = 'office' | 'reviewer' | 'compliance' | 'desk' | 'operator' | 'none';

interface Route {
  service: 'publisher' | 'gate' | 'subscriber' | 'audit';
  method: string;
  /** `{x}` segments are path parameters. */
  path: string;
  role: Role;
  body?: () => unknown;
  query?: readonly string[];
}

const SPECIAL_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\ud83d\ude00',
  'null',
  '0',
  '-1',
  '1e309',
  '9'.repeat(40),
  'NaN',
  'true',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '%ZZ',
  '\\',
  '"',
  '{}',
  '[]',
  'a'.repeat(5000),
  '2026-13-45T25:61:61Z',
  '+275760-09-13T00:00:00.001Z',
  '-271821-04-20T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '2026-11-29T00:00:00Z',
  '00000000-0000-0000-0000-000000000000',
  'DE-NCB',
  'FR-NCB',
  'ZZ-NCB',
  'EUROPE',
  'RED',
  'ndjson',
  'csv',
];

function alertBody(): Record<string, unknown> {
  return alertInput({
    subject: {
      familyName: 'Doe',
      forenames: 'J',
      dateOfBirth: '1980-01-02',
      nationalities: ['FR'],
      identityDocuments: [{ kind: 'PASSPORT', number: 'X1', issuingCountry: 'FR' }],
    },
  });
}

const NOW_RANGE = (): Record<string, string> => ({
  since: new Date(Date.now() - 3_600_000).toISOString(),
  until: new Date(Date.now() + 3_600_000).toISOString(),
});

const ROUTES: readonly Route[] = [
  { service: 'publisher', method: 'POST', path: '/alerts', role: 'office', body: alertBody },
  { service: 'publisher', method: 'POST', path: '/alerts/{alert}/updates', role: 'office', body: alertBody },
  { service: 'publisher', method: 'POST', path: '/alerts/{alert}/cancel', role: 'office', body: () => ({ note: 'withdrawn' }) },
  { service: 'publisher', method: 'GET', path: '/alerts/{alert}', role: 'office' },
  { service: 'publisher', method: 'GET', path: '/alerts', role: 'office', query: ['limit', 'offset'] },
  { service: 'publisher', method: 'GET', path: '/openapi.json', role: 'none' },
  { service: 'gate', method: 'GET', path: '/holds', role: 'reviewer', query: ['limit'] },
  { service: 'gate', method: 'POST', path: '/holds/{alert}/release', role: 'reviewer', body: () => ({ agencies: [AGENCY], version: 1 }) },
  { service: 'gate', method: 'GET', path: '/decisions/{alert}', role: 'reviewer', query: ['agency'] },
  { service: 'subscriber', method: 'GET', path: '/inbox', role: 'desk', query: ['q', 'noticeType', 'since', 'cursor', 'limit'] },
  { service: 'subscriber', method: 'GET', path: '/inbox/{alert}', role: 'desk' },
  { service: 'subscriber', method: 'POST', path: '/inbox/{alert}/ack', role: 'desk' },
  { service: 'subscriber', method: 'GET', path: '/stream', role: 'desk', query: ['lastEventId'] },
  {
    service: 'subscriber',
    method: 'POST',
    path: '/desks',
    role: 'operator',
    body: () => ({ name: 'fuzz-desk', filter: { regions: ['EUROPE'], noticeTypes: ['RED'] } }),
  },
  { service: 'subscriber', method: 'GET', path: '/desks', role: 'operator' },
  { service: 'subscriber', method: 'DELETE', path: '/desks/{name}', role: 'operator' },
  { service: 'audit', method: 'GET', path: '/compliance/verify', role: 'compliance' },
  { service: 'audit', method: 'GET', path: '/compliance/alerts/{alert}/trail', role: 'compliance' },
  {
    service: 'audit',
    method: 'GET',
    path: '/compliance/agencies/{agency}/received',
    role: 'compliance',
    query: ['since', 'until', 'type', 'originator', 'noticeType', 'limit', 'after'],
  },
  {
    service: 'audit',
    method: 'GET',
    path: '/compliance/export',
    role: 'compliance',
    query: ['agency', 'since', 'until', 'format', 'type'],
  },
  { service: 'audit', method: 'POST', path: '/compliance/replay', role: 'compliance', body: () => ({ agency: AGENCY, ...NOW_RANGE() }) },
  {
    service: 'audit',
    method: 'POST',
    path: '/compliance/what-if',
    role: 'compliance',
    body: () => ({ policy: '2026-11-01', ...NOW_RANGE() }),
  },
  ...(['publisher', 'gate', 'subscriber', 'audit'] as const).flatMap((service) => [
    { service, method: 'GET', path: '/health/live', role: 'none' as const },
    { service, method: 'GET', path: '/health/ready', role: 'none' as const },
    { service, method: 'GET', path: '/metrics', role: 'none' as const },
  ]),
];

/** Mutates a JSON value: one of many small, typed breakages, applied at a random depth. */
function mutate(rng: Rng, value: unknown, depth = 0): unknown {
  if (depth > 6) return value;
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && rng.chance(0.7)) {
    const obj = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(obj);
    const key = keys.length > 0 ? rng.pick(keys) : 'x';
    switch (rng.int(6)) {
      case 0:
        delete obj[key];
        break;
      case 1:
        obj[rng.pick(SPECIAL_STRINGS.slice(0, 24))] = randomJson(rng, 2);
        break;
      default:
        obj[key] = mutate(rng, obj[key], depth + 1);
    }
    return obj;
  }
  if (Array.isArray(value) && value.length > 0 && rng.chance(0.6)) {
    const arr = [...value];
    const i = rng.int(arr.length);
    if (rng.chance(0.2)) arr.push(...Array.from({ length: rng.int(600) }, () => arr[i]));
    else arr[i] = mutate(rng, arr[i], depth + 1);
    return arr;
  }
  if (typeof value === 'string' && rng.chance(0.5)) {
    const bad = rng.pick(SPECIAL_STRINGS);
    const at = rng.int(value.length + 1);
    return rng.chance(0.5) ? `${value.slice(0, at)}${bad}${value.slice(at)}` : bad;
  }
  return randomJson(rng, 2);
}

function randomJson(rng: Rng, depth: number): unknown {
  switch (rng.int(depth > 0 ? 9 : 6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 0.5, -0, 4, 5]);
    case 3:
    case 4:
      return rng.pick(SPECIAL_STRINGS);
    case 5:
      return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0x10000)));
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth - 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(4) }, () => [rng.pick(SPECIAL_STRINGS.slice(0, 30)), randomJson(rng, depth - 1)]),
      );
  }
}

interface Stack {
  urls: Record<Route['service'], string>;
  tokens: Record<Exclude<Role, 'none'>, string>;
  /** Alert ids that exist (published by the office), for path parameters that hit real rows. */
  alerts: string[];
  close(): Promise<void>;
}

/** The four services, each through the one start-up function, on one test world (topics, database). */
async function startStack(log: (l: string) => void): Promise<Stack> {
  const prefix = `${uniqueName('fuzz')}.`;
  const topics = topicNames(prefix);
  const registry = loadRegistry(join(POLICIES, 'registry.yaml')).agencies.map((a) => a.code);
  const allTopics = [topics.submitted, topics.audit, topics.deadLetter, ...registry.map((a) => topics.feedFor(a))];
  const logger = createLogger('fuzz', 'fatal');
  const admin = testKafka('admin', uniqueName('fuzz-admin')).admin();
  await admin.connect();
  await createTopics(admin, [topics.submitted], SUBMITTED_PARTITIONS);
  await createTopics(
    admin,
    allTopics.filter((t) => t !== topics.submitted),
    1,
  );
  const db: TestDatabase = await createTestDatabase({ label: 'fuzz' });
  const connection = testKafkaConnection('admin');
  const closers: (() => Promise<unknown>)[] = [
    async () => {
      await deleteTopics(admin, allTopics).catch(() => undefined);
      await admin.disconnect();
    },
    () => db.drop(),
  ];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const publisherDb = await openPublisherDatabase(db.url, 2);
    const office = (await new CredentialStore(publisherDb).issue('FR-NCB')).token;
    await publisherDb.destroy();
    const publisher: RunningService = await startService({
      name: 'notice-publisher',
      module: NoticePublisherModule.forRoot({
        kafka: KafkaConfig.of(connection, prefix),
        // A generous publish deadline: the fuzz tests input handling on a loaded 2-core machine, not
        // capacity (an honest 503 kafka-unavailable under that load is not what it looks for).
        config: PublisherConfig.of({
          PORT: 0,
          DATABASE_URL: db.url,
          POLICIES_DIR: POLICIES,
          PUBLISH_FLUSH_INTERVAL_MS: 2,
          PUBLISH_TIMEOUT_MS: 30_000,
        }),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    closers.push(() => publisher.close());
    const gate: TestGate = await startTestGate({
      kafka: connection,
      databaseUrl: db.url,
      prefix,
      policiesDir: POLICIES,
      instanceId: uniqueName('fuzz'),
      groupId: uniqueName('fuzz-gate'),
      logger,
    });
    closers.push(() => gate.close());
    const reviewer = (await gate.repository.issueReviewer('fuzz.reviewer')).token;
    const audit: RunningService = await startService({
      name: 'audit-logger',
      module: AuditLoggerModule.forRoot({
        kafka: connection,
        databaseUrl: await provisionLedger(db.url),
        prefix,
        groupId: uniqueName('fuzz-audit'),
        policiesDir: POLICIES,
        signingKeyFile: join(ROOT, '.backbone', 'test-results', `${uniqueName('fuzz-key')}.pem`),
      }),
      logger,
      port: 0,
      shutdownHooks: false,
    });
    closers.push(() => audit.close());
    const compliance = (
      await issueComplianceUser(audit.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME).pool, 'fuzz-compliance', COMPLIANCE_REPLAYER_ROLE)
    ).token;
    const operator = issueToken().token;
    const sub: RunningAgencySubscriber = await startTestSubscriber({
      agency: AGENCY,
      kafka: connection,
      databaseUrl: db.url,
      prefix,
      groupId: uniqueName('fuzz-sub'),
      port: 0,
      logger,
      adminTokenHash: hashToken(operator),
    });
    closers.push(() => sub.close());
    const desk = (await sub.desks.create('fuzz-all', {})).token;
    log(`fuzz: stack up (publisher ${publisher.url}, gate ${gate.service.url}, subscriber ${sub.url}, audit ${audit.url})`);
    return {
      urls: { publisher: publisher.url, gate: gate.service.url, subscriber: sub.url, audit: audit.url },
      tokens: { office, reviewer, compliance, desk, operator },
      alerts: [],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * encodeURIComponent, except that a lone surrogate (which it refuses) becomes the bytes a careless
 * client would send for it (CESU-8 style, invalid UTF-8): exactly what a server must survive.
 */
function enc(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    if (pair) {
      out += encodeURIComponent(s.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += `%ED%${(0xa0 | ((c >> 6) & 0x0f)).toString(16).toUpperCase()}%${(0x80 | (c & 0x3f)).toString(16).toUpperCase()}`;
    } else {
      out += encodeURIComponent(s[i]!);
    }
  }
  return out;
}

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

function generate(rng: Rng, stack: Stack): Request {
  const route = rng.pick(ROUTES);
  const method = rng.chance(0.06) ? rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) : route.method;
  const param = (name: string): string => {
    if (name === 'alert' && stack.alerts.length > 0 && rng.chance(0.5)) return rng.pick(stack.alerts);
    if (name === 'agency' && rng.chance(0.5)) return AGENCY;
    if (name === 'name' && rng.chance(0.3)) return 'fuzz-desk';
    if (rng.chance(0.3)) return '6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f';
    return enc(rng.pick(SPECIAL_STRINGS) || 'x');
  };
  let path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => param(name));
  if (rng.chance(0.03)) path += rng.pick(['/', '//', '/x', '%2F..', '?', '#']);
  const query: string[] = [];
  if (route.query && rng.chance(0.8)) {
    for (const key of route.query) {
      if (!rng.chance(0.5)) continue;
      const v = rng.chance(0.4)
        ? key === 'since' || key === 'until'
          ? NOW_RANGE()[key]!
          : key === 'agency'
            ? AGENCY
            : String(rng.int(100))
        : rng.pick(SPECIAL_STRINGS);
      query.push(`${key}=${enc(v)}`);
      if (rng.chance(0.05)) query.push(`${key}=${enc(rng.pick(SPECIAL_STRINGS))}`);
    }
  }
  if (rng.chance(0.05)) query.push(`${enc(rng.pick(SPECIAL_STRINGS) || 'k')}=${enc(rng.pick(SPECIAL_STRINGS))}`);
  const headers: Record<string, string> = {};
  const roleToken = route.role === 'none' ? null : stack.tokens[route.role];
  const auth = rng.next();
  if (auth < 0.75 && roleToken) headers['authorization'] = `Bearer ${roleToken}`;
  else if (auth < 0.85) headers['authorization'] = `Bearer ${rng.pick(Object.values(stack.tokens))}`;
  else if (auth < 0.95)
    headers['authorization'] = rng.pick([
      'Bearer',
      'Basic abc',
      'Bearer bbk_0000000000000000.AAAA',
      `Bearer ${'x'.repeat(3000)}`,
      'bearer  ',
      'Bearer \t',
    ]);
  if (rng.chance(0.3))
    headers['idempotency-key'] = rng.chance(0.7) ? `fuzz-${rng.int(200)}` : enc(rng.pick(SPECIAL_STRINGS)).slice(0, 300) || 'k';
  if (route.path === '/stream' && rng.chance(0.5)) headers['last-event-id'] = enc(rng.pick(SPECIAL_STRINGS)).slice(0, 100);
  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    const kind = rng.next();
    let value: unknown;
    if (route.body && kind < 0.25) value = route.body();
    else if (route.body && kind < 0.75) value = mutate(rng, route.body());
    else if (kind < 0.9) value = randomJson(rng, 3);
    if (value !== undefined) body = JSON.stringify(value);
    else if (kind < 0.95)
      body = rng.pick([
        '{',
        '{"a":',
        '[1,2',
        '\u0000',
        'not json',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{}}}',
        '"\\ud800"',
        '{"a":"\\u0000"}',
      ]);
    const ct = rng.next();
    if (body !== undefined) {
      headers['content-type'] =
        ct < 0.85
          ? 'application/json'
          : rng.pick([
              'text/plain',
              'application/x-www-form-urlencoded',
              'application/json; charset=latin1',
              'multipart/form-data',
              'application/problem+json',
              '',
            ]);
    }
  }
  return {
    method,
    url: `${stack.urls[route.service]}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`,
    headers,
    ...(body !== undefined ? { body } : {}),
  };
}

/** Sends one request; an event stream is closed as soon as its head is in. */
async function send(req: Request): Promise<{ status: number; contentType: string; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: abort.signal,
    });
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.startsWith('text/event-stream')) {
      abort.abort();
      return { status: res.status, contentType, text: '' };
    }
    return { status: res.status, contentType, text: req.method === 'HEAD' ? '' : await res.text() };
  } catch (err) {
    if (abort.signal.aborted) return { status: 599, contentType: '', text: 'no answer within 15 s' };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a 4xx answer is problem+json carrying a non-empty `reason` (unknown routes and methods included). */
function hasReason(contentType: string, text: string): boolean {
  if (!contentType.includes('application/problem+json')) return false;
  try {
    const body = JSON.parse(text) as { reason?: unknown };
    return typeof body.reason === 'string' && body.reason.length > 0;
  } catch {
    return false;
  }
}

export async function runHttpFuzz(opts: HttpFuzzOptions): Promise<HttpFuzzResult> {
  opts.log(`fuzz: http seed ${opts.seed} (repeat with FUZZ_SEED=${opts.seed}), ${opts.inputs} inputs`);
  const stack = await startStack(opts.log);
  const result: HttpFuzzResult = { inputs: 0, serverErrors: 0, unreasoned: 0, failures: [] };
  try {
    // A few real alerts, so path parameters also hit existing rows (and their owners' checks).
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${stack.urls.publisher}/alerts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.tokens.office}`, 'content-type': 'application/json' },
        body: JSON.stringify(alertBody()),
      });
      if (res.status === 201) stack.alerts.push(((await res.json()) as { alertId: string }).alertId);
    }
    const rng = new Rng(opts.seed);
    const requests = Array.from({ length: opts.inputs }, () => generate(rng, stack));
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < requests.length; i = next++) {
        const req = requests[i]!;
        const res = await send(req);
        result.inputs++;
        const record = (what: string): void => {
          if (result.failures.length < 20) {
            const body = req.body === undefined ? '' : ` body ${req.body.slice(0, 300)}`;
            result.failures.push(`#${i} ${req.method} ${req.url}${body} -> ${res.status} ${what}: ${res.text.slice(0, 300)}`);
          }
        };
        // Not ready is a documented answer of /health/ready (503 problem+json), e.g. a dependency slow under the fuzz's load.
        const notReady = res.status === 503 && new URL(req.url).pathname === '/health/ready' && hasReason(res.contentType, res.text);
        if (res.status >= 500 && !notReady) {
          result.serverErrors++;
          record('5xx');
        } else if (res.status >= 400 && req.method !== 'HEAD' && !hasReason(res.contentType, res.text)) {
          result.unreasoned++;
          record('refusal without problem+json reason');
        }
        if (result.inputs % 2000 === 0)
          opts.log(`fuzz: ${result.inputs} http inputs, ${result.serverErrors} 5xx, ${result.unreasoned} without reason`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  } finally {
    await stack.close();
  }
  return result;
}
