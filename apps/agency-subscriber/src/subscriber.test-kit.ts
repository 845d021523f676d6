// Test helpers for the agency subscriber's integration tests (not used by the service).
import type { Producer } from 'kafkajs';
import { alertCodec, deliveryCodec, type Alert, type Delivery } from '@backbone/codec';
import { sampleAlert, sampleDelivery } from '@backbone/codec/testing';
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, startService, type Logger } from '@backbone/bootstrap';
import {
  AgencySubscriberModule,
  SUBSCRIBER_RUNTIME,
  subscriberWiring,
  type AgencySubscriberOptions,
  type SubscriberRuntime,
} from './agency-subscriber.module.js';
import type { DeskStore } from '@backbone/inbox-store';
import { FeedConsumer } from './feed/feed.consumer.js';
import type { AuditRelay } from './audit/audit.relay.js';
import type { InboxStore, PurgeResult } from './inbox/inbox.store.js';

export interface StartAgencySubscriberOptions extends AgencySubscriberOptions {
  port?: number;
  logger?: Logger;
}

/** A subscriber started in-process through the one start-up function, with handles the tests inspect. */
export interface RunningAgencySubscriber {
  app: NestFastifyApplication;
  url: string;
  agency: string;
  feedTopic: string;
  groupId: string;
  inbox: InboxStore;
  desks: DeskStore;
  relay: AuditRelay;
  /** The feed consumer (its afterStore hook injects a crash between the DB commit and the offset commit). */
  feed: FeedConsumer;
  purgeNow(now?: Date): Promise<PurgeResult>;
  close(): Promise<void>;
}

export async function startTestSubscriber(opts: StartAgencySubscriberOptions): Promise<RunningAgencySubscriber> {
  const wiring = subscriberWiring(opts);
  const logger = (opts.logger ?? createLogger('agency-subscriber')).child({ agency: opts.agency });
  const service = await startService({
    name: 'agency-subscriber',
    module: AgencySubscriberModule.forRoot(opts, wiring),
    logger,
    port: opts.port ?? 0,
    bodyLimit: 64 * 1024,
    shutdownHooks: false,
  });
  const runtime = service.app.get<SubscriberRuntime>(SUBSCRIBER_RUNTIME);
  return {
    app: service.app,
    url: service.url,
    agency: wiring.agency,
    feedTopic: wiring.feedTopic,
    groupId: wiring.groupId,
    inbox: runtime.inbox,
    desks: runtime.desks,
    relay: runtime.relay,
    feed: service.app.get(FeedConsumer),
    purgeNow: (now?: Date) => runtime.retention.purgeNow(now),
    close: () => service.close(),
  };
}

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

export interface SseReader {
  status: number;
  events: SseEvent[];
  /** True once the server ended the stream (not set by close()). */
  readonly endedByServer: boolean;
  close(): Promise<void>;
}

/** Opens GET /stream with fetch and parses the event stream as it arrives. */
export async function openStream(baseUrl: string, token: string, lastEventId?: number): Promise<SseReader> {
  const ctrl = new AbortController();
  const res = await fetch(`${baseUrl}/stream`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}) },
    signal: ctrl.signal,
  });
  const events: SseEvent[] = [];
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => undefined);
    return { status: res.status, events, endedByServer: false, close: async () => undefined };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const state = { endedByServer: false };
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          state.endedByServer = true;
          return;
        }
        buffer += decoder.decode(value, { stream: true });
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const parsed = parseBlock(block);
          if (parsed) events.push(parsed);
        }
      }
    } catch {
      // Aborted by close(): the test dropped the connection on purpose.
    }
  })();
  return {
    status: res.status,
    events,
    get endedByServer() {
      return state.endedByServer;
    },
    close: async () => {
      ctrl.abort();
      await pump;
    },
  };
}

function parseBlock(block: string): SseEvent | null {
  let id: number | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = Number(value);
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (id === undefined || data.length === 0) return null;
  return { id, event, data: JSON.parse(data.join('\n')) as Record<string, unknown> };
}

/** A Delivery for `recipient` carrying `alert` encoded, as the gate would write it. */
export function deliveryOf(recipient: string, alert: Alert, overrides: Partial<Delivery> = {}): Delivery {
  return sampleDelivery({
    deliveryId: randomUUID(),
    recipient,
    alertId: alert.alertId,
    alertVersion: alert.version,
    msgType: alert.msgType,
    alert: alertCodec.encode(alert),
    ...overrides,
  });
}

export function alertOf(overrides: Partial<Alert> = {}): Alert {
  return sampleAlert({ alertId: randomUUID(), ...overrides });
}

export async function produceDeliveries(producer: Producer, topic: string, deliveries: Delivery[]): Promise<void> {
  await producer.send({ topic, acks: -1, messages: deliveries.map((d) => ({ key: d.alertId, value: deliveryCodec.encode(d) })) });
}

export async function getJson(
  url: string,
  token: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
