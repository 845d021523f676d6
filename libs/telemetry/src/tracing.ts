import { createRequire } from 'node:module';
import { context, propagation, trace, SpanStatusCode, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * The SDK (provider, batch processor, OTLP exporter, context manager) is loaded only when tracing
 * is switched on. Loading it costs about a fifth of a service's start-up (some 250 module files), and
 * on a busy machine a restarted service spends most of its restart loading modules: a service
 * nobody traces should not pay for it. require() keeps startTracing synchronous (the packages are CommonJS).
 */
const requireSdk = createRequire(import.meta.url);
interface TracingSdk {
  AsyncLocalStorageContextManager: typeof import('@opentelemetry/context-async-hooks').AsyncLocalStorageContextManager;
  OTLPTraceExporter: typeof import('@opentelemetry/exporter-trace-otlp-http').OTLPTraceExporter;
  resourceFromAttributes: typeof import('@opentelemetry/resources').resourceFromAttributes;
  BasicTracerProvider: typeof import('@opentelemetry/sdk-trace-base').BasicTracerProvider;
  BatchSpanProcessor: typeof import('@opentelemetry/sdk-trace-base').BatchSpanProcessor;
}
function loadSdk(): TracingSdk {
  const hooks = requireSdk('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const exporter = requireSdk('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const resources = requireSdk('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const base = requireSdk('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  return {
    AsyncLocalStorageContextManager: hooks.AsyncLocalStorageContextManager,
    OTLPTraceExporter: exporter.OTLPTraceExporter,
    resourceFromAttributes: resources.resourceFromAttributes,
    BasicTracerProvider: base.BasicTracerProvider,
    BatchSpanProcessor: base.BatchSpanProcessor,
  };
}

/** What startTracing decided, from the standard OTEL_* variables. */
export interface Tracing {
  /** True when spans are exported (an OTLP endpoint is configured and tracing is not switched off). */
  readonly enabled: boolean;
  readonly endpoint: string | null;
  /** Exports the spans still buffered; call on shutdown. */
  shutdown(): Promise<void>;
}

/** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, else nowhere. */
export function otlpTracesEndpoint(env: NodeJS.ProcessEnv = process.env): string | null {
  if ((env['OTEL_SDK_DISABLED'] ?? '').toLowerCase() === 'true' || (env['OTEL_TRACES_EXPORTER'] ?? '').toLowerCase() === 'none')
    return null;
  const traces = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  if (traces) return traces;
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : null;
}

let current: Tracing | undefined;
let propagatorSet = false;

/**
 * The W3C propagator, registered on first use rather than only by startTracing: services started
 * in-process (tests, the subscriber host's siblings) must pass trace context on too. The API's
 * default propagator is a no-op that would silently drop every traceparent.
 */
function ensurePropagator(): void {
  if (propagatorSet) return;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  propagatorSet = true;
}

/**
 * Sets up OpenTelemetry tracing for one service, off by default: without an OTLP endpoint the API
 * stays the no-op it is out of the box (spans cost a function call), so nothing changes for a
 * service nobody traces. With one, spans go in batches over OTLP/HTTP (JSON) to any collector.
 * The W3C trace-context propagator is always registered: trace ids still travel in Kafka headers
 * through an untraced service, so a traced one downstream joins the same trace.
 * Honours OTEL_SERVICE_NAME and the OTEL_BSP_* batch settings through the SDK.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  if (current) return current;
  ensurePropagator();
  const endpoint = otlpTracesEndpoint(env);
  if (!endpoint) {
    current = { enabled: false, endpoint: null, shutdown: async () => undefined };
    return current;
  }
  const sdk = loadSdk();
  const provider = new sdk.BasicTracerProvider({
    resource: sdk.resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME'] ?? service }),
    spanProcessors: [new sdk.BatchSpanProcessor(new sdk.OTLPTraceExporter({ url: endpoint }))],
  });
  // Spans of one request find their parent across awaits (the API's default keeps no context).
  context.setGlobalContextManager(new sdk.AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  current = { enabled: true, endpoint, shutdown: () => provider.shutdown() };
  return current;
}

/** The one tracer every Backbone span comes from. */
export function tracer(): Tracer {
  return trace.getTracer('backbone');
}

/** Kafka header values as KafkaJS hands them over (Buffer, string, arrays of either, or undefined). */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

const headerGetter = {
  keys: (carrier: KafkaHeaders): string[] => Object.keys(carrier),
  get: (carrier: KafkaHeaders, key: string): string | undefined => {
    const v = carrier[key];
    const first = Array.isArray(v) ? v[0] : v;
    return first === undefined ? undefined : first.toString();
  },
};

/** The trace context a Kafka record carries (traceparent / tracestate), or the active one when it has none. */
export function contextFromHeaders(headers: KafkaHeaders | undefined): Context {
  ensurePropagator();
  return headers ? propagation.extract(context.active(), headers, headerGetter) : context.active();
}

/** traceparent (and tracestate) of `ctx`'s span as Kafka headers; empty when there is no valid span. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  ensurePropagator();
  const out: Record<string, string> = {};
  propagation.inject(ctx, out);
  return out;
}

/**
 * Runs `fn` inside a new span (child of `parent`, default the active context), ending it when the
 * promise settles and marking it failed on a throw. `fn` also gets the span's context, to hand on
 * explicitly where the active context does not flow (it flows only while tracing is enabled).
 */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span, ctx: Context) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer().startSpan(name, { attributes }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    return await context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/** Attribute names shared by every service, so one alert's spans can be found across services. */
export const SPAN_ATTR = {
  alertId: 'backbone.alert.id',
  alertVersion: 'backbone.alert.version',
  agency: 'backbone.agency',
  records: 'backbone.records',
} as const;

/** Span names of an alert's path (the bench's stages are built from these). */
export const SPANS = {
  publisherHttp: 'publisher.http_accepted',
  publisherCommit: 'publisher.commit',
  gateCommitted: 'gate.decided_committed',
  subscriberStored: 'subscriber.stored',
  deskSent: 'subscriber.desk_sent',
  /** Not on an alert's path: one audit-logger batch into the ledger. */
  auditIngested: 'audit.ingested',
} as const;

export { context, trace, type Context, type Span };
