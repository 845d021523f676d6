import { SPANS } from '@backbone/telemetry';
import type { CollectedSpan } from './span.collector.js';
import { percentile } from './stats.js';

/** The stages of an alert's path, in order, as `e2e.stage.<stage>` names them. */
export const STAGES = ['http_accepted', 'publisher_commit', 'gate_decided_committed', 'subscriber_stored', 'desk_sent'] as const;
export type Stage = (typeof STAGES)[number];

/**
 * What each stage of one alert's path took, from the services' spans (joined by alert id):
 *   http_accepted          POST received → 201 sent (the publisher's whole request, commit included);
 *   publisher_commit       the alert's Kafka transaction, inside the request;
 *   gate_decided_committed publisher commit done → the gate's transaction committed (the wait in
 *                          alerts.submitted, the decision, PostgreSQL and the gate's transaction);
 *   subscriber_stored      gate committed → the delivery stored in the agency's inbox (feed wait + store);
 *   desk_sent              stored → the event written to the desk's SSE stream.
 * The last three and the publisher commit's end add up to the alert's whole path, queueing included.
 * `work` receives the gate's and the subscriber's own span durations (their work without the wait).
 */
export function stageSamples(
  spans: readonly CollectedSpan[],
  alertIds: Iterable<string>,
  work: Record<'gate_decided_committed' | 'subscriber_stored', number[]> = { gate_decided_committed: [], subscriber_stored: [] },
): Record<Stage, number[]> {
  const byAlert = new Map<string, Map<string, CollectedSpan>>();
  for (const s of spans) {
    if (!s.alertId) continue;
    let named = byAlert.get(s.alertId);
    if (!named) byAlert.set(s.alertId, (named = new Map()));
    // The first of a name wins (a redelivered batch or a second desk adds later copies).
    const had = named.get(s.name);
    if (!had || s.endMs < had.endMs) named.set(s.name, s);
  }
  const out: Record<Stage, number[]> = {
    http_accepted: [],
    publisher_commit: [],
    gate_decided_committed: [],
    subscriber_stored: [],
    desk_sent: [],
  };
  for (const id of alertIds) {
    const named = byAlert.get(id);
    if (!named) continue;
    const http = named.get(SPANS.publisherHttp);
    const commit = named.get(SPANS.publisherCommit);
    const gate = named.get(SPANS.gateCommitted);
    const stored = named.get(SPANS.subscriberStored);
    const sent = named.get(SPANS.deskSent);
    if (http) out.http_accepted.push(http.endMs - http.startMs);
    if (commit) out.publisher_commit.push(commit.endMs - commit.startMs);
    if (commit && gate) out.gate_decided_committed.push(gate.endMs - commit.endMs);
    if (gate) work.gate_decided_committed.push(gate.endMs - gate.startMs);
    if (stored) work.subscriber_stored.push(stored.endMs - stored.startMs);
    if (gate && stored) out.subscriber_stored.push(stored.endMs - gate.endMs);
    if (stored && sent) out.desk_sent.push(sent.endMs - stored.endMs);
  }
  return out;
}

export interface StageSummary {
  stage: Stage;
  count: number;
  p50: number | null;
  p99: number | null;
}

export function summariseStages(samples: Record<Stage, number[]>): StageSummary[] {
  return STAGES.map((stage) => {
    const s = samples[stage];
    return { stage, count: s.length, p50: s.length > 0 ? percentile(s, 50) : null, p99: s.length > 0 ? percentile(s, 99) : null };
  });
}
