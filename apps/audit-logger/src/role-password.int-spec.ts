import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, scramSha256Verifier, type TestDatabase } from '@backbone/persistence';
import { migrateLedger } from '@backbone/ledger';

// No password is ever sent inside an SQL statement PostgreSQL could log: the migration that sets
// the audit logger's login role is watched statement by statement, then the role logs in.

let db: TestDatabase;
const role = `audit_pw_${randomBytes(4).toString('hex')}`;
const password = randomBytes(24).toString('hex');

beforeAll(async () => {
  db = await createTestDatabase({ label: 'role_password' });
}, 60_000);

afterAll(async () => {
  await db?.drop();
  const owner = new pg.Client({ connectionString: db.url });
  await owner.connect().then(
    () => owner.query(`DROP ROLE IF EXISTS ${role}`).finally(() => owner.end()),
    () => undefined,
  );
}, 60_000);

describe('the audit logger role password', () => {
  it("is set from a SCRAM verifier: no statement text holds the password, and the stored verifier is the password's", async () => {
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    const spy = jest.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const first = args[0];
      sent.push(typeof first === 'string' ? first : ((first as { text?: string }).text ?? ''));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original);
    try {
      await migrateLedger({ ownerUrl: db.url, appRole: role, appPassword: password });
    } finally {
      spy.mockRestore();
    }
    expect(sent.some((sql) => sql.includes(`ALTER ROLE ${role} PASSWORD 'SCRAM-SHA-256$4096:`))).toBe(true);
    for (const sql of sent) expect(sql).not.toContain(password);

    // What PostgreSQL stored is the verifier of exactly this password (local servers may trust loopback
    // logins, so a login alone would prove nothing): recomputed from the stored salt, it matches.
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      const stored = (await owner.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [role])).rows[0]!.p;
      const [, iterAndSalt] = stored.split('$');
      const [iterations, salt] = iterAndSalt!.split(':');
      expect(stored).toBe(scramSha256Verifier(password, Buffer.from(salt!, 'base64'), Number(iterations)));
      expect(stored).not.toBe(scramSha256Verifier(`${password}x`, Buffer.from(salt!, 'base64'), Number(iterations)));
    } finally {
      await owner.end();
    }
  }, 60_000);
});
