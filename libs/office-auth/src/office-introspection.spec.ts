import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { issueToken } from '@backbone/auth';
import { OfficeIntrospectionClient, verifyOfficeToken } from './office-introspection.js';
import { officeIntrospectionFromEnv, parseIntrospectionClients } from './office-introspection.config.js';

describe('OfficeIntrospectionClient (against a local HTTP server standing in for the publisher)', () => {
  const office = issueToken();
  const service = issueToken();
  let server: Server;
  let url: string;
  let asked = 0;
  let revoked = false;
  let down = false;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        asked++;
        if (down) return void res.writeHead(503).end();
        if (req.headers.authorization !== `Bearer ${service.token}`) return void res.writeHead(401).end();
        const { token } = JSON.parse(body) as { token: string };
        const active = token === office.token && !revoked;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(active ? { active, agency: 'FR-NCB', tokenId: office.id } : { active, reason: 'revoked-credential' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reuses an answer for cacheMs only, so a revocation is seen once the cache expires', async () => {
    let now = 1_000_000;
    const client = new OfficeIntrospectionClient({ url, serviceToken: service.token, cacheMs: 2000 }, () => now);
    revoked = false;
    asked = 0;
    expect(await client.introspect(office.token)).toEqual({ active: true, agency: 'FR-NCB', tokenId: office.id });
    revoked = true;
    now += 1999;
    expect((await client.introspect(office.token)).active).toBe(true);
    expect(asked).toBe(1);
    now += 1;
    expect(await client.introspect(office.token)).toEqual({ active: false, reason: 'revoked-credential' });
    expect(asked).toBe(2);
    expect(client.revocationBoundMs).toBe(2000 + 3000);
  });

  it('refuses a malformed token without asking, and shares one request between concurrent questions', async () => {
    const client = new OfficeIntrospectionClient({ url, serviceToken: service.token, cacheMs: 0 });
    asked = 0;
    expect(await client.introspect('not-a-token')).toEqual({ active: false, reason: 'malformed-credential' });
    expect(asked).toBe(0);
    await Promise.all([client.introspect(office.token), client.introspect(office.token)]);
    expect(asked).toBe(1);
  });

  it('fails closed: a publisher that refuses or is down, or no configuration, is a 401 naming why', async () => {
    revoked = false;
    down = false;
    const wrong = new OfficeIntrospectionClient({ url, serviceToken: issueToken().token, cacheMs: 0 });
    expect(await verifyOfficeToken(wrong, office.token)).toMatchObject({
      ok: false,
      status: 401,
      reason: 'office-verification-unavailable',
    });
    down = true;
    const client = new OfficeIntrospectionClient({ url, serviceToken: service.token, cacheMs: 0 });
    expect(await verifyOfficeToken(client, office.token)).toMatchObject({ ok: false, reason: 'office-verification-unavailable' });
    down = false;
    expect(await verifyOfficeToken(null, office.token)).toMatchObject({ ok: false, reason: 'office-verification-not-configured' });
    const ok = await verifyOfficeToken(client, office.token);
    expect(ok.ok && ok.principal).toMatchObject({ subject: 'FR-NCB', roles: ['office'], agency: 'FR-NCB' });
  });

  it('refuses a cache longer than the stated bound', () => {
    expect(() => new OfficeIntrospectionClient({ url, serviceToken: service.token, cacheMs: 5001 })).toThrow(/0-5000/);
  });
});

describe('INTROSPECTION_CLIENTS', () => {
  it('maps service names to token hashes and names what is wrong without the value', () => {
    const h = issueToken().hash;
    expect(parseIntrospectionClients(`policy-gate=${h}, audit-logger=${h}`)).toEqual(
      new Map([
        ['policy-gate', h],
        ['audit-logger', h],
      ]),
    );
    expect(parseIntrospectionClients(null).size).toBe(0);
    expect(() => parseIntrospectionClients('policy-gate=secret')).toThrow(/<redacted>/);
    expect(() => parseIntrospectionClients(`a=${h},a=${h}`)).toThrow(/twice/);
  });
});

describe('OFFICE_INTROSPECTION_*', () => {
  const token = issueToken().token;

  it('is off when neither is set, and refuses one without the other', () => {
    expect(officeIntrospectionFromEnv({})).toBeNull();
    expect(() => officeIntrospectionFromEnv({ OFFICE_INTROSPECTION_URL: 'http://127.0.0.1:1' })).toThrow(/set together/);
  });

  it('in production refuses a clear-text URL: the credentials travel in the request', () => {
    const env = { OFFICE_INTROSPECTION_URL: 'http://publisher:8080', OFFICE_INTROSPECTION_TOKEN: token };
    expect(officeIntrospectionFromEnv(env)).not.toBeNull();
    expect(() => officeIntrospectionFromEnv({ ...env, BACKBONE_ENV: 'production' })).toThrow(/must be an https:\/\/ URL/);
    expect(
      officeIntrospectionFromEnv({ ...env, BACKBONE_ENV: 'production', OFFICE_INTROSPECTION_URL: 'https://publisher:8443' }),
    ).not.toBeNull();
  });
});
