import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import pg from 'pg';
import { CREDENTIAL_VERIFIER, Public, type CredentialVerifier } from '@backbone/auth';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { createLogger } from './logger.js';
import { startService, type RunningService } from './service.bootstrap.js';

// Real errors from the real server and from node-postgres, not hand-made look-alikes: the shapes
// this recognises are the driver's, and they are what a service meets under load or a restart.
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

describe('database unavailable (real PostgreSQL)', () => {
  const role = `unavailable_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: serverUrl, max: 1 });
  // One connection, held by the test: the next acquire times out as under load.
  const busy = new pg.Pool({ connectionString: serverUrl, max: 1, connectionTimeoutMillis: 100 });
  let held: pg.PoolClient;
  let service: RunningService;

  beforeAll(async () => {
    // A role that may never connect: the server answers 53300 (too many connections for role).
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
    held = await busy.connect();

    @Controller('query')
    @Public()
    class QueryController {
      @Get('busy')
      async viaBusyPool(): Promise<unknown> {
        return (await busy.query('SELECT 1 AS one')).rows;
      }

      @Get('bad-sql')
      async badSql(): Promise<unknown> {
        return (await admin.query('SELECT no_such_column FROM pg_class')).rows;
      }
    }
    const verifier: CredentialVerifier = { verify: async () => ({ ok: false, reason: 'unknown-credential' }) };
    @Module({ controllers: [QueryController], providers: [{ provide: CREDENTIAL_VERIFIER, useValue: verifier }] })
    class AppModule {}
    service = await startService({ name: 'db-unavailable-spec', module: AppModule, logger: createLogger('spec', 'silent'), port: 0 });
  });

  afterAll(async () => {
    await service?.close();
    held?.release();
    await busy.end();
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    await admin.end();
  });

  it("recognises pg-pool's acquire timeout, a refused login for lack of slots and a closed port; not bad SQL", async () => {
    expect(isDatabaseUnavailable(await failureOf(() => busy.query('SELECT 1')))).toBe(true);
    const url = new URL(serverUrl);
    url.username = role;
    const refused = await failureOf(() => new pg.Client({ connectionString: url.toString() }).connect());
    expect((refused as { code?: string }).code).toBe('53300');
    expect(isDatabaseUnavailable(refused)).toBe(true);
    const closedPort = await failureOf(() => new pg.Client({ host: '127.0.0.1', port: 1, user: 'postgres' }).connect());
    expect(isDatabaseUnavailable(closedPort)).toBe(true);
    const badSql = await failureOf(() => admin.query('SELECT no_such_column FROM pg_class'));
    expect((badSql as { code?: string }).code).toBe('42703');
    expect(isDatabaseUnavailable(badSql)).toBe(false);
  });

  it('answers 503 database-unavailable with Retry-After over HTTP, and still 500 for a fault of our own', async () => {
    const busyAnswer = await fetch(`${service.url}/query/busy`);
    expect(busyAnswer.status).toBe(503);
    expect(busyAnswer.headers.get('retry-after')).toBe('2');
    expect(busyAnswer.headers.get('content-type')).toContain('application/problem+json');
    expect(await busyAnswer.json()).toMatchObject({ status: 503, reason: 'database-unavailable' });

    const ours = await fetch(`${service.url}/query/bad-sql`);
    expect(ours.status).toBe(500);
    expect(await ours.json()).toMatchObject({ reason: 'internal' });
  });
});
