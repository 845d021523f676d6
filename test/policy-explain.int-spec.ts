import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Command } from 'commander';
import { createLogger } from '@backbone/bootstrap';
import { sampleAlert, sampleSubject } from '@backbone/codec/testing';
import { createTestDatabase, type TestDatabase } from '@backbone/persistence';
import { testKafkaConnection } from '@backbone/testing';
import { registerPolicyCommands } from '../apps/cli/src/commands/policy.command.js';
import { loadEnginePolicy } from '../apps/policy-gate/src/policy-engine.adapter.js';
import { GateTestWorld, startTestGate, type TestGate } from '../apps/policy-gate/src/testing/gate-test.harness.js';

jest.setTimeout(120_000);

// Crosses two apps (the CLI reading what the gate stored), so it lives with the whole-repo tests.

/** Runs `backbone <args>` in-process and returns what it printed. */
async function backbone(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  const program = new Command('backbone').exitOverride();
  registerPolicyCommands(program);
  let out = '';
  let err = '';
  const write = (sink: (s: string) => void) =>
    ((chunk: string | Uint8Array): boolean => (sink(String(chunk)), true)) as typeof process.stdout.write;
  const [o, e, code] = [process.stdout.write, process.stderr.write, process.exitCode];
  process.stdout.write = write((s) => (out += s));
  process.stderr.write = write((s) => (err += s));
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'backbone', ...args]);
    return { out, err, exitCode: Number(process.exitCode ?? 0) };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
    process.exitCode = code;
  }
}

describe('backbone policy (CLI against what the gate stored)', () => {
  let db: TestDatabase;
  let w: GateTestWorld;
  let gate: TestGate;
  const savedUrl = process.env['DATABASE_URL'];

  beforeAll(async () => {
    db = await createTestDatabase({ label: 'policy_explain' });
    process.env['DATABASE_URL'] = db.url;
    const policy = loadEnginePolicy('policies');
    w = await GateTestWorld.create(policy.decide(sampleAlert(), new Date()).outcomes.map((o) => o.agency));
    gate = await startTestGate({
      kafka: testKafkaConnection('admin'),
      databaseUrl: db.url,
      prefix: w.prefix,
      groupId: w.groupId,
      instanceId: randomUUID(),
      policy,
      logger: createLogger('policy-gate', 'fatal'),
    });
  });

  afterAll(async () => {
    process.env['DATABASE_URL'] = savedUrl;
    await gate?.close();
    await w?.close();
    await db?.drop();
  });

  it('check validates the repository policies', async () => {
    const r = await backbone('policy', 'check', 'policies');
    expect(r.exitCode).toBe(0);
    expect(r.out).toMatch(/policies: OK \(registry .*, 20 agencies; newest policy /);
  });

  it('explain shows the stored outcome, rule and policy version, with the engine rule trail', async () => {
    const a = sampleAlert({ alertId: randomUUID(), sent: new Date(), subject: sampleSubject() });
    await w.submit(a);
    await w.waitForGateCommitted();
    const expected = gate.policy.decide(a, new Date()).outcomes.find((o) => o.agency === 'BR-NCB')!;
    const r = await backbone('policy', 'explain', a.alertId, '--agency', 'BR-NCB', '--policies', 'policies');
    expect(r.out).toContain(`v1 Alert: ${expected.outcome} by ${expected.ruleId}; policy ${gate.policy.policyVersion}`);
    expect(r.out).toContain('Rules that fired');
    const json = JSON.parse((await backbone('policy', 'explain', a.alertId, '--agency', 'DE-NCB', '--json')).out) as {
      versions: { outcomes: { agency?: string; delivered: boolean }[] }[];
    };
    expect(json.versions[0]!.outcomes).toHaveLength(1);
  });
});
