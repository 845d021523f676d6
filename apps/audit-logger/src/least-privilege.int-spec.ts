// The audit logger runs as its append-only role and never holds the owner's URL: provisioning
// (`backbone audit migrate`, provisionLedger) migrates the ledger with owner rights, and the
// service, given only its role's URL, checks the schema version at start-up and refuses a
// database that was not migrated, saying why. Real broker and PostgreSQL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Admin, Producer } from 'kafkajs';
import pg from 'pg';
import { createLogger, startService, type RunningService } from '@backbone/bootstrap';
import { auditEventCodec } from '@backbone/codec';
import { auditEvent, PARKING_SERVICES, topicNames, type TopicNames } from '@backbone/kafka';
import { appDatabaseUrl, appRolePassword, DEFAULT_APP_ROLE, LedgerNotMigratedError, provisionLedger } from '@backbone/ledger';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import type { AuditLedgerRuntime, AuditLoggerOptions } from './audit-ledger.runtime.js';
import { AUDIT_RUNTIME, AuditLoggerModule } from './audit-logger.module.js';

jest.setTimeout(90_000);

const kafka = testKafka('admin', uniqueName('least-privilege-admin'));
const keyDir = mkdtempSync(join(tmpdir(), 'least-privilege-'));
let admin: Admin;
let producer: Producer;
let db: TestDatabase;
let bare: TestDatabase;
let topics: TopicNames;
let prefix: string;
let running: RunningService | undefined;

function options(databaseUrl: string): AuditLoggerOptions {
  return {
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl,
    groupId: uniqueName('least-privilege'),
    signingKeyFile: join(keyDir, 'ledger-key.pem'),
    anchors: { topic: false },
  };
}

async function start(opts: AuditLoggerOptions): Promise<RunningService> {
  return startService({
    name: 'audit-logger',
    module: AuditLoggerModule.forRoot(opts),
    logger: createLogger('audit-logger', 'fatal'),
    port: 0,
    shutdownHooks: false,
  });
}

beforeAll(async () => {
  prefix = `${uniqueName('least')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.audit, topics.parkedFor(PARKING_SERVICES.auditLogger)]);
  producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  db = await createTestDatabase({ label: 'least_privilege' });
  bare = await createTestDatabase({ label: 'least_privilege_bare' });
});

afterAll(async () => {
  await running?.close();
  await producer?.disconnect();
  await deleteTopics(admin, [topics.audit, topics.parkedFor(PARKING_SERVICES.auditLogger)]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
  await bare?.drop();
});

describe('the audit logger without owner rights', () => {
  it('started with only its role URL, works as that role, and holds the owner URL nowhere', async () => {
    const appUrl = await provisionLedger(db.url);
    const opts = options(appUrl);
    expect(new URL(appUrl).username).toBe(DEFAULT_APP_ROLE);
    expect(JSON.stringify(opts)).not.toContain(new URL(db.url).username + '@');
    expect(JSON.stringify(opts)).not.toContain(db.url);
    running = await start(opts);

    const event = auditEvent('AUDIT_ACCESSED', 'audit-logger', { actor: 'least-privilege' });
    await producer.send({ topic: topics.audit, acks: -1, messages: [{ key: event.eventId, value: auditEventCodec.encode(event) }] });
    const pool = running.app.get<AuditLedgerRuntime>(AUDIT_RUNTIME).pool;
    await pollUntil(async () => (await pool.query('SELECT 1 FROM audit.ledger WHERE event_id = $1', [event.eventId])).rowCount === 1, {
      description: 'the event in the ledger',
      timeoutMs: 30_000,
    });
    // Every connection the service holds is its role's, and that role cannot rewrite history.
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      const { rows } = await owner.query<{ usename: string }>(
        `SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'audit-logger'`,
      );
      expect(rows).toEqual([{ usename: DEFAULT_APP_ROLE }]);
    } finally {
      await owner.end();
    }
    await expect(pool.query('DELETE FROM audit.ledger')).rejects.toThrow(/permission denied/);
    await expect(pool.query('CREATE TABLE audit.intruder (x int)')).rejects.toThrow(/permission denied/);
  });

  it('refuses to start on a database that was not migrated, naming the reason and the command', async () => {
    const unmigrated = appDatabaseUrl(bare.url, DEFAULT_APP_ROLE, appRolePassword(null));
    const refused = start(options(unmigrated));
    await expect(refused).rejects.toBeInstanceOf(LedgerNotMigratedError);
    await expect(refused).rejects.toThrow(/audit ledger schema is missing: run `npx backbone audit migrate`/);
  });

  it('refuses a role that provisioning never created, and a ledger older than the code', async () => {
    const stranger = appDatabaseUrl(db.url, 'backbone_never_provisioned', 'x'.repeat(24));
    await expect(start(options(stranger))).rejects.toThrow(/cannot log in as the audit logger's role .*backbone audit migrate/);

    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      await owner.query('DELETE FROM audit.schema_version');
    } finally {
      await owner.end();
    }
    await running?.close();
    running = undefined;
    await expect(start(options(await appUrlOf(db.url)))).rejects.toThrow(/schema is at version none, this audit logger needs 1/);
  });
});

async function appUrlOf(ownerUrl: string): Promise<string> {
  return appDatabaseUrl(ownerUrl, DEFAULT_APP_ROLE, appRolePassword(null));
}
