import { describe, expect, it } from '@jest/globals';
import { sampleAuditEvent } from '@backbone/codec/testing';
import { emitterRefusal } from './emitter.rules.js';

describe('emitter rules: who may emit which audit event about whom', () => {
  it.each([
    ['notice-publisher', sampleAuditEvent({ type: 'SUBMITTED', service: 'notice-publisher' })],
    ['notice-publisher', sampleAuditEvent({ type: 'REJECTED', service: 'notice-publisher' })],
    ['policy-gate', sampleAuditEvent({ type: 'DECIDED', service: 'policy-gate' })],
    ['audit-logger', sampleAuditEvent({ type: 'REPLAYED', service: 'audit-logger' })],
    ['subscriber-FR-NCB', sampleAuditEvent({ type: 'DELIVERED', service: 'agency-subscriber', agency: 'FR-NCB' })],
    ['subscriber-FR-NCB', sampleAuditEvent({ type: 'ACKNOWLEDGED', service: 'agency-subscriber', agency: 'FR-NCB' })],
    // The refusals of each service's roles guard.
    ['policy-gate', sampleAuditEvent({ type: 'REJECTED', service: 'policy-gate' })],
    ['audit-logger', sampleAuditEvent({ type: 'REJECTED', service: 'audit-logger' })],
    ['subscriber-FR-NCB', sampleAuditEvent({ type: 'REJECTED', service: 'agency-subscriber', agency: 'FR-NCB' })],
  ])('%s may emit its own kind of event', (signer, e) => {
    expect(emitterRefusal(signer, e)).toBeNull();
  });

  it.each([
    ['subscriber-FR-NCB', sampleAuditEvent({ type: 'DECIDED', service: 'policy-gate' }), /may not emit DECIDED/],
    [
      'subscriber-FR-NCB',
      sampleAuditEvent({ type: 'DELIVERED', service: 'agency-subscriber', agency: 'DE-NCB' }),
      /only about its own agency FR-NCB/,
    ],
    ['subscriber-FR-NCB', sampleAuditEvent({ type: 'DELIVERED', service: 'agency-subscriber', agency: null }), /only about its own agency/],
    ['notice-publisher', sampleAuditEvent({ type: 'DECIDED', service: 'policy-gate' }), /may not emit DECIDED/],
    ['policy-gate', sampleAuditEvent({ type: 'SUBMITTED', service: 'notice-publisher' }), /may not emit SUBMITTED/],
    ['policy-gate', sampleAuditEvent({ type: 'DECIDED', service: 'notice-publisher' }), /claiming service/],
    [
      'subscriber-FR-NCB',
      sampleAuditEvent({ type: 'REJECTED', service: 'agency-subscriber', agency: 'DE-NCB' }),
      /only about its own agency FR-NCB/,
    ],
    ['policy-gate', sampleAuditEvent({ type: 'REJECTED', service: 'notice-publisher' }), /claiming service/],
    ['admin', sampleAuditEvent({ type: 'DECIDED', service: 'policy-gate' }), /emits no audit events/],
  ])('%s is refused %#', (signer, e, why) => {
    expect(emitterRefusal(signer, e)).toMatch(why);
  });
});
