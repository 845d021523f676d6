import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@backbone/bootstrap';
import { loadGateSettings, transactionalIdFor } from './policy-gate.config.js';

describe('gate settings', () => {
  it('has working defaults', () => {
    const s = loadGateSettings({});
    expect(s).toMatchObject({ GATE_INSTANCE_ID: '0', GATE_GROUP_ID: 'policy-gate', POLICIES_DIR: 'policies', POLICY_VERSION: null, GATE_MAX_BATCH_RECORDS: 500 });
    expect(transactionalIdFor(s.GATE_INSTANCE_ID)).toBe('policy-gate-0');
  });

  it('names every bad setting at once and never shows the database password', () => {
    let error: unknown;
    try {
      loadGateSettings({ GATE_INSTANCE_ID: 'has space', GATE_MAX_BATCH_RECORDS: '0', DATABASE_URL: 'postgres://u:secret@h/db', GATE_TXN_RETRIES: 'x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/GATE_INSTANCE_ID/);
    expect(problems).toMatch(/GATE_MAX_BATCH_RECORDS/);
    expect(problems).toMatch(/GATE_TXN_RETRIES/);
    expect(problems).not.toMatch(/secret/);
  });
});
