import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { deadLetterCodec, type Alert } from '@backbone/codec';
import { sampleAlert } from '@backbone/codec/testing';
import { createLogger } from '@backbone/bootstrap';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { testKafkaConnection } from '@backbone/testing';
import { addressingTestPolicy } from './testing/addressing.test-policy.js';
import { GateTestWorld, startTestGate, type TestGate } from './testing/gate-test.harness.js';

const AGENCIES = ['FR-NCB', 'DE-NCB'];
jest.setTimeout(120_000);
const logger = createLogger('policy-gate', process.env['TEST_LOG_LEVEL'] ?? 'fatal');

let db: TestDatabase;
let w: GateTestWorld | undefined;
let g: TestGate | undefined;

beforeAll(async () => {
  db = await createTestDatabase({ label: 'gate_poison' });
});
afterEach(async () => {
  await g?.close();
  await w?.close();
  g = undefined;
  w = undefined;
});
afterAll(async () => {
  await db.drop();
});

function alert(overrides: Partial<Alert> = {}): Alert {
  return sampleAlert({ alertId: randomUUID(), ...overrides });
}

describe('policy gate: a record PostgreSQL refuses (real broker and PostgreSQL)', () => {
  it('dead-letters it as UNSTORABLE in its own transaction and keeps deciding the records around it, each exactly once', async () => {
    w = await GateTestWorld.create(AGENCIES);
    g = await startTestGate({
      kafka: testKafkaConnection('admin'),
      databaseUrl: db.url,
      prefix: w.prefix,
      groupId: w.groupId,
      instanceId: randomUUID(),
      policy: addressingTestPolicy(AGENCIES),
      logger,
    });
    // A real refusal (SQLSTATE 23514) for exactly one alert: what the gate's history table cannot take.
    const poison = alert();
    const owner = new pg.Client({ connectionString: db.url });
    await owner.connect();
    try {
      await owner.query(
        `ALTER TABLE policy_gate.alert_decisions ADD CONSTRAINT poison_${poison.alertId.slice(0, 8)} CHECK (alert_id <> '${poison.alertId}')`,
      );
    } finally {
      await owner.end();
    }
    // One region: one partition of alerts.submitted, so the good alerts sit right behind the poison.
    const before = alert();
    const after = alert();
    await w.submit(before, poison, after);
    await w.waitForGateCommitted();

    const deliveries = [...(await w.deliveries(AGENCIES)).entries()].flatMap(([agency, list]) => list.map((d) => `${agency}/${d.alertId}`));
    // The sender does not receive its own alert: one delivery each to the other agency, none of the poison.
    expect(deliveries.sort()).toEqual([`DE-NCB/${before.alertId}`, `DE-NCB/${after.alertId}`].sort());
    const letters = (await w.readCommitted([w.topics.deadLetter])).get(w.topics.deadLetter)!.map((m) => deadLetterCodec.decode(m.value));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ service: 'policy-gate', reason: 'UNSTORABLE', sourceTopic: w.topics.submitted });
    expect(letters[0]!.detail).toMatch(/^SQLSTATE 23514/);
    expect(g.consumerMetrics.totals.parked).toBe(1);
  });
});
