import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@backbone/bootstrap';
import { gateInstanceId, loadGateSettings, partitionTransactionalIdFor, transactionalIdFor } from './policy-gate.config.js';

describe('gate settings', () => {
  it('has working defaults', () => {
    const s = loadGateSettings({});
    expect(s).toMatchObject({
      GATE_INSTANCE_ID: '',
      GATE_GROUP_ID: 'policy-gate',
      POLICIES_DIR: 'policies',
      POLICY_VERSION: null,
      GATE_MAX_BATCH_RECORDS: 500,
      GATE_PARTITIONS_CONCURRENTLY: 8,
    });
    expect(transactionalIdFor(gateInstanceId(s.GATE_INSTANCE_ID, 'gate-7.example'))).toBe('policy-gate-gate-7.example');
  });

  it('defaults the instance id to the host name, so two replicas on two hosts never share one', () => {
    expect(gateInstanceId('', 'pod-a')).not.toBe(gateInstanceId('', 'pod-b'));
    expect(gateInstanceId('', 'weird host/name')).toBe('weird-host-name');
    expect(gateInstanceId('explicit', 'pod-a')).toBe('explicit');
  });

  it('names transactional ids after the input partition, not the instance, under the ACL prefix', () => {
    const id = partitionTransactionalIdFor('policy-gate', 'alerts.submitted', 3);
    expect(id).toBe('policy-gate-policy-gate-alerts.submitted-3');
    expect(id).not.toBe(partitionTransactionalIdFor('policy-gate', 'alerts.submitted', 4));
  });

  it('names every bad setting at once and never shows the database password', () => {
    let error: unknown;
    try {
      loadGateSettings({
        GATE_INSTANCE_ID: 'has space',
        GATE_MAX_BATCH_RECORDS: '0',
        DATABASE_URL: 'postgres://u:secret@h/db',
        GATE_TXN_RETRIES: 'x',
      });
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
