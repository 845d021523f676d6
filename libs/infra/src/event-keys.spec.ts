import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { auditSignatureProblem, signAuditEvent as signAuditEventFor } from '@backbone/codec';
import { auditEvent, readEventKeyring, readEventSigningKey, readPublicKeys } from '@backbone/kafka';
import { ensureEventKeys, eventKeyFile, eventPublicKeysFile, rotateEventKey } from './event-keys.js';

describe('event keys provisioned with the principals', () => {
  const home = mkdtempSync(join(tmpdir(), 'event-keys-'));

  it('gives every principal but admin a private key (mode 600) and publishes its public key, once', () => {
    expect(ensureEventKeys(['admin', 'policy-gate', 'subscriber-FR-NCB'], { home })).toEqual(['policy-gate', 'subscriber-FR-NCB']);
    expect(ensureEventKeys(['policy-gate', 'subscriber-FR-NCB'], { home })).toEqual([]);
    expect(statSync(eventKeyFile('policy-gate', { home })).mode & 0o777).toBe(0o600);
    expect(readPublicKeys(eventPublicKeysFile({ home })).keys.map((k) => k.signer)).toEqual(['policy-gate', 'subscriber-FR-NCB']);
    // The public keys file holds no private material.
    expect(JSON.stringify(readPublicKeys(eventPublicKeysFile({ home })))).not.toContain('PRIVATE KEY');
  });

  it('rotation replaces the private key and keeps the old public key, so past events still verify', () => {
    const old = readEventSigningKey(eventKeyFile('policy-gate', { home }));
    const before = signAuditEventFor(auditEvent('DECIDED', 'policy-gate'), old);
    const newId = rotateEventKey('policy-gate', { home });
    const current = readEventSigningKey(eventKeyFile('policy-gate', { home }));
    expect(current.keyId).toBe(newId);
    expect(newId).not.toBe(old.keyId);
    const ring = readEventKeyring(eventPublicKeysFile({ home }));
    expect(auditSignatureProblem(before, ring)).toBeNull();
    expect(auditSignatureProblem(signAuditEventFor(auditEvent('DECIDED', 'policy-gate'), current), ring)).toBeNull();
  });
});
