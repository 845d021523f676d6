import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import pg from 'pg';
import {
  auditEventCodec,
  deadLetterCodec,
  signAuditEvent,
  type DeadLetter,
  type EventKeyring,
  type EventSigningKey,
} from '@backbone/codec';
import {
  auditEvent,
  encodeAuditEvent,
  generateEventKey,
  PARKING_SERVICES,
  readEventKeyring,
  topicNames,
  type TopicNames,
} from '@backbone/kafka';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { createTopics, deleteTopics, hasServicePrincipals, pollUntil, testKafka, testKafkaConnection, uniqueName } from '@backbone/testing';
import { entryHash, GENESIS_HASH, LEDGER_SELECT, rowToEntry, verifyLedger, type LedgerRow, provisionLedger } from '@backbone/ledger';
import { startTestAuditLogger as startAuditLogger, type RunningAuditLogger } from './audit-logger.test-kit.js';

// Attacker side: the Kafka credentials (and event key) of one agency's subscriber. Kafka lets it
// write audit.events, because subscribers record deliveries. It tries to write a gate decision
// and a delivery to another agency; both must be parked as forged, and the trail must not change.

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
const ATTACKER = 'subscriber-FR-NCB';
const kafka = testKafka('admin', uniqueName('forged-admin'));
let admin: Admin;
let attacker: Producer;
let dlqReader: Consumer;
let db: TestDatabase;
let topics: TopicNames;
let prefix: string;
let running: RunningAuditLogger;
let keyring: EventKeyring;
let frKey: EventSigningKey;
let gateKey: EventSigningKey;
const keysDir = mkdtempSync(join(tmpdir(), 'event-keys-'));
const publicKeys = join(keysDir, 'public-keys.json');
const alertId = randomUUID();
const parked: DeadLetter[] = [];

/** The same write right the subscriber principal holds on audit.events in production, on this test's topic. */
function attackerAcl(): Parameters<Admin['createAcls']>[0]['acl'] {
  return [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((operation) => ({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: topics.audit,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: `User:${ATTACKER}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

async function ledgerRows(): Promise<{ type: string; agency: string | null; signer: string | null }[]> {
  return (
    await running.pool.query<{ type: string; agency: string | null; signer: string | null }>(
      'SELECT type, agency, signer FROM audit.ledger ORDER BY seq',
    )
  ).rows;
}

beforeAll(async () => {
  prefix = `${uniqueName('forged')}.`;
  topics = topicNames(prefix);
  admin = kafka.admin();
  await admin.connect();
  await createTopics(admin, [topics.audit, topics.parkedFor(PARKING_SERVICES.auditLogger)], 1);
  frKey = generateEventKey(join(keysDir, `${ATTACKER}.json`), publicKeys, ATTACKER);
  gateKey = generateEventKey(join(keysDir, 'policy-gate.json'), publicKeys, 'policy-gate');
  generateEventKey(join(keysDir, 'subscriber-DE-NCB.json'), publicKeys, 'subscriber-DE-NCB');
  const loggerKey = generateEventKey(join(keysDir, 'audit-logger.json'), publicKeys, 'audit-logger');
  keyring = readEventKeyring(publicKeys);
  db = await createTestDatabase({ label: 'forged_events' });
  running = await startAuditLogger({
    kafka: testKafkaConnection('admin'),
    prefix,
    databaseUrl: await provisionLedger(db.url),
    signingKeyFile: join(keysDir, 'checkpoint-key.pem'),
    groupId: uniqueName('forged'),
    eventKeyring: keyring,
    eventSigningKey: loggerKey,
  });
  // Only on the local harness broker does the subscriber principal exist; elsewhere write as admin.
  const principal = hasServicePrincipals() ? ATTACKER : 'admin';
  if (principal === ATTACKER) await admin.createAcls({ acl: attackerAcl() });
  attacker = testKafka(principal, uniqueName('attacker')).producer({ allowAutoTopicCreation: false });
  await attacker.connect();
  dlqReader = kafka.consumer({ groupId: uniqueName('forged-dlq') });
  await dlqReader.connect();
  await dlqReader.subscribe({ topic: topics.parkedFor(PARKING_SERVICES.auditLogger), fromBeginning: true });
  await dlqReader.run({ eachMessage: async ({ message }) => void parked.push(deadLetterCodec.decode(message.value!)) });
}, 90_000);

afterAll(async () => {
  await dlqReader?.disconnect();
  await attacker?.disconnect();
  if (hasServicePrincipals()) await admin.deleteAcls({ filters: attackerAcl() }).catch(() => undefined);
  await running?.close();
  await deleteTopics(admin, [topics.audit, topics.parkedFor(PARKING_SERVICES.auditLogger)]).catch(() => undefined);
  await admin?.disconnect();
  await db?.drop();
}, 60_000);

describe('forged audit events from a subscriber principal', () => {
  it('enters its genuine delivery, parks a claimed gate decision and a claimed other agency as forged, trail unchanged', async () => {
    const genuine = auditEvent('DELIVERED', 'agency-subscriber', { alertId, alertVersion: 1, agency: 'FR-NCB' });
    // Claims the gate: a DECIDED turning DE-NCB's DENY into an ALLOW, signed with the only key the attacker has.
    const decided = auditEvent('DECIDED', 'policy-gate', {
      alertId,
      alertVersion: 1,
      policyVersion: '2026-11-01',
      decisions: [{ agency: 'DE-NCB', outcome: 'ALLOW', ruleId: 'addressing.all', redactedGroups: [], executionFlags: [] }],
    });
    // Claims the gate's signer name outright, with its own key id (it has no gate key).
    const posingAsGate = {
      ...signAuditEvent(decided, frKey),
      signature: { ...signAuditEvent(decided, frKey).signature!, signer: 'policy-gate' },
    };
    // Claims another agency: a delivery to, and an acknowledgement by, DE-NCB.
    const otherAgency = auditEvent('ACKNOWLEDGED', 'agency-subscriber', { alertId, alertVersion: 1, agency: 'DE-NCB' });
    const unsigned = auditEvent('DELIVERED', 'agency-subscriber', { alertId, alertVersion: 1, agency: 'DE-NCB' });
    // A genuine gate event replayed with one field changed: the signature no longer matches.
    const tampered = { ...signAuditEvent(decided, gateKey), policyVersion: '2099-01-01' };

    await attacker.send({
      topic: topics.audit,
      acks: -1,
      messages: [
        { key: alertId, value: encodeAuditEvent(genuine, frKey) },
        { key: alertId, value: encodeAuditEvent(decided, frKey) },
        { key: alertId, value: auditEventCodec.encode(posingAsGate) },
        { key: alertId, value: encodeAuditEvent(otherAgency, frKey) },
        { key: alertId, value: auditEventCodec.encode(unsigned) },
        { key: alertId, value: auditEventCodec.encode(tampered) },
      ],
    });

    await pollUntil(() => running.consumer.stats.inserted + running.consumer.stats.forged >= 6, {
      description: 'every event screened',
      timeoutMs: 30_000,
    });
    expect(running.consumer.stats.forged).toBe(5);
    expect(await ledgerRows()).toEqual([{ type: 'DELIVERED', agency: 'FR-NCB', signer: ATTACKER }]);

    await pollUntil(() => parked.length >= 5, { description: 'five parked records', timeoutMs: 30_000 });
    const details = parked.map((p) => p.detail).sort();
    expect(details.every((d) => d.startsWith('forged: '))).toBe(true);
    expect(details).toEqual(
      [
        `forged: ${ATTACKER} may not emit DECIDED events`,
        `forged: unknown key ${JSON.stringify(frKey.keyId)} for signer policy-gate`,
        `forged: ${ATTACKER} may emit events only about its own agency FR-NCB, not "DE-NCB"`,
        'forged: unsigned',
        'forged: signature of policy-gate does not match the event',
      ].sort(),
    );
    // The original bytes are kept whole, with their position.
    expect(
      parked.every((p) => p.sourceTopic === topics.audit && p.value !== null && auditEventCodec.decode(p.value).alertId === alertId),
    ).toBe(true);

    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(/^audit_forged_events_total 5$/m);

    await running.writer.checkpointNow();
    const report = await verifyLedger(running.pool, new Map([[running.signingKey.keyId, running.signingKey.publicKey]]), {
      eventKeyring: keyring,
    });
    expect(report).toMatchObject({ ok: true, rows: 1, eventSignaturesVerified: 1, unsignedEvents: 0 });
  }, 90_000);

  it('verify re-checks signatures: a row whose signed field is changed and whose hash chain is recomputed is caught', async () => {
    // Owner rights: change the stored agency and recompute the chain so the hashes agree again.
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      // The owner can lift the append-only trigger; that is the threat.
      await owner.query('ALTER TABLE audit.ledger DISABLE TRIGGER USER');
      await owner.query(`UPDATE audit.ledger SET agency = 'DE-NCB' WHERE seq = 1`);
      const row = (await owner.query<LedgerRow>(`SELECT ${LEDGER_SELECT} FROM audit.ledger WHERE seq = 1`)).rows[0]!;
      await owner.query(`UPDATE audit.ledger SET hash = $1 WHERE seq = 1`, [entryHash(GENESIS_HASH, rowToEntry(row))]);
    } finally {
      await owner.end();
    }
    const report = await verifyLedger(running.pool, new Map(), { eventKeyring: keyring });
    expect(report.firstBreak).toMatchObject({ seq: 1, kind: 'forged-event' });
  }, 60_000);
});
