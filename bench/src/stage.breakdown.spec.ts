import { describe, expect, it } from '@jest/globals';
import { SPANS } from '@backbone/telemetry';
import type { CollectedSpan } from './span.collector.js';
import { nanosToMs, parseOtlpJson } from './span.collector.js';
import { stageSamples, summariseStages } from './stage.breakdown.js';

const span = (name: string, alertId: string | null, startMs: number, endMs: number): CollectedSpan => ({
  name,
  service: 's',
  alertId,
  startMs,
  endMs,
});

describe('stage breakdown', () => {
  it('splits one alert path into stages that add up to the whole', () => {
    const spans = [
      span(SPANS.publisherHttp, 'a1', 1000, 1030),
      span(SPANS.publisherCommit, 'a1', 1005, 1025),
      span(SPANS.gateCommitted, 'a1', 1040, 1100),
      span(SPANS.subscriberStored, 'a1', 1110, 1130),
      span(SPANS.deskSent, 'a1', 1131, 1135),
    ];
    const s = stageSamples(spans, ['a1']);
    expect(s).toEqual({
      http_accepted: [30],
      publisher_commit: [20],
      gate_decided_committed: [75],
      subscriber_stored: [30],
      desk_sent: [5],
    });
    expect(1025 - 1000 + s.gate_decided_committed[0]! + s.subscriber_stored[0]! + s.desk_sent[0]!).toBe(1135 - 1000);
  });

  it('keeps the first copy of a repeated span and ignores alerts not asked for', () => {
    const spans = [
      span(SPANS.publisherCommit, 'a1', 0, 10),
      span(SPANS.gateCommitted, 'a1', 50, 200),
      span(SPANS.gateCommitted, 'a1', 20, 40),
      span(SPANS.gateCommitted, 'other', 0, 999),
    ];
    const s = stageSamples(spans, ['a1', 'missing']);
    expect(s.gate_decided_committed).toEqual([30]);
    expect(summariseStages(s).find((x) => x.stage === 'desk_sent')).toEqual({ stage: 'desk_sent', count: 0, p50: null, p99: null });
  });
});

describe('OTLP/JSON parsing', () => {
  it('reads names, the alert id attribute, the service and nanosecond times in each encoding', () => {
    expect(nanosToMs('1700000000123456789')).toBeCloseTo(1700000000123.456, 2);
    expect(nanosToMs(2_000_000)).toBe(2);
    expect(nanosToMs({ low: 1_000_000, high: 0 })).toBe(1);
    const spans = parseOtlpJson(
      {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'policy-gate' } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    name: 'x',
                    startTimeUnixNano: '1000000',
                    endTimeUnixNano: '3000000',
                    attributes: [{ key: 'k', value: { stringValue: 'a9' } }],
                  },
                ],
              },
            ],
          },
        ],
      },
      'k',
    );
    expect(spans).toEqual([{ name: 'x', service: 'policy-gate', alertId: 'a9', startMs: 1, endMs: 3 }]);
  });
});
