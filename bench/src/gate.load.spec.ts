import { describe, expect, it } from '@jest/globals';
import { benchAlert, deliveriesOf } from './gate.load.js';

describe('gate benchmark load', () => {
  const senders = [
    { code: 'FR-NCB', region: 'EUROPE' as const },
    { code: 'US-NCB', region: 'AMERICAS' as const },
  ];
  const now = new Date('2026-06-01T00:00:00Z');

  it('builds distinct, unexpired alerts to ALL from rotating senders, keeping neverTo agencies out', () => {
    const a = benchAlert(0, senders, now, ['DE-NCB', 'FR-NCB']);
    const b = benchAlert(1, senders, now, ['DE-NCB']);
    expect(a.alertId).not.toBe(b.alertId);
    expect([a.sender, b.sender]).toEqual(['FR-NCB', 'US-NCB']);
    expect(b.senderRegion).toBe('AMERICAS');
    expect(a.addressing.mode).toBe('ALL');
    expect(a.neverTo).toEqual(['DE-NCB']);
    expect(a.expires!.getTime()).toBeGreaterThan(now.getTime());
    expect(a.sent.getTime()).toBeLessThan(now.getTime());
    expect(a.msgType).toBe('Alert');
  });

  it('counts allowed outcomes (with or without obligations) as deliveries', () => {
    expect(deliveriesOf([{ outcome: 'ALLOW' }, { outcome: 'ALLOW_WITH_OBLIGATIONS' }, { outcome: 'DENY' }, { outcome: 'HOLD' }])).toBe(2);
    expect(deliveriesOf([])).toBe(0);
  });
});
