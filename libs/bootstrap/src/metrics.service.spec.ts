import { describe, expect, it } from '@jest/globals';
import { EVENT_LOOP_SAMPLE_MS, MetricsService } from './metrics.service.js';

describe('metrics', () => {
  it('keeps the event-loop delay series while sampling them at most ten times a second', async () => {
    const names = (await new MetricsService().registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds']));
    expect(EVENT_LOOP_SAMPLE_MS).toBeGreaterThanOrEqual(100);
  });
});
