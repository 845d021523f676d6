import { describe, expect, it } from '@jest/globals';
import type { RecipientDecision } from '@backbone/codec';
import { summarise } from './office-recipients.queries.js';

const decision = (agency: string, outcome: RecipientDecision['outcome'], ruleId = 'r'): RecipientDecision =>
  ({ agency, outcome, ruleId, redactedGroups: [], executionFlags: [], noReshare: false }) as unknown as RecipientDecision;
const at = (s: number) => new Date(Date.UTC(2026, 10, 29, 0, 0, s));
const row = (type: string, version: number, agency: string | null, decisions: RecipientDecision[] = [], s = 0) => ({
  alert_id: 'a',
  type,
  alert_version: version,
  agency,
  decisions,
  occurred_at: at(s),
});

describe('office recipient status from ledger rows', () => {
  it('gives each agency the state of the latest decided version, with its delivery and latest acknowledgement', () => {
    const r = summarise('a', [
      row('DECIDED', 1, null, [decision('DE-NCB', 'ALLOW'), decision('US-NCB', 'ALLOW'), decision('BR-NCB', 'DENY', 'transfer.no-basis')]),
      row('DELIVERED', 1, 'DE-NCB', [], 1),
      row('ACKNOWLEDGED', 1, 'DE-NCB', [], 2),
      row('DELIVERED', 1, 'US-NCB', [], 3),
      row('DECIDED', 2, null, [decision('DE-NCB', 'ALLOW'), decision('US-NCB', 'ALLOW'), decision('JP-NCB', 'HOLD')], 4),
      row('DELIVERED', 2, 'US-NCB', [], 5),
      row('ACKNOWLEDGED', 2, 'US-NCB', [], 6),
    ]);
    const by = new Map(r.recipients.map((x) => [x.agency, x]));
    // DE-NCB acknowledged version 1 but has not received version 2 yet.
    expect(by.get('DE-NCB')).toMatchObject({ version: 2, state: 'pending', deliveredAt: null, acknowledgedVersion: 1 });
    expect(by.get('US-NCB')).toMatchObject({ version: 2, state: 'acknowledged', deliveredAt: at(5).toISOString() });
    expect(by.get('BR-NCB')).toMatchObject({ version: 1, state: 'denied', ruleId: 'transfer.no-basis' });
    expect(by.get('JP-NCB')).toMatchObject({ state: 'held' });
    expect(r.counts).toEqual({ agencies: 4, acknowledged: 1, delivered: 0, pending: 1, held: 1, denied: 1 });
    expect(r.recipients.map((x) => x.agency)).toEqual(['BR-NCB', 'DE-NCB', 'JP-NCB', 'US-NCB']);
  });

  it('is empty for an alert with no decision yet', () => {
    expect(summarise('a', [])).toEqual({
      alertId: 'a',
      counts: { agencies: 0, acknowledged: 0, delivered: 0, pending: 0, held: 0, denied: 0 },
      recipients: [],
    });
  });
});
