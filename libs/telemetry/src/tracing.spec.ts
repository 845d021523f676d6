import { describe, expect, it } from '@jest/globals';
import { contextFromHeaders, otlpTracesEndpoint, startTracing, trace, traceHeaders, tracer } from './tracing.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is configured', () => {
    expect(otlpTracesEndpoint({})).toBeNull();
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' })).toBe(
      'http://t/x',
    );
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeNull();
  });
});

describe('W3C trace context in Kafka headers', () => {
  it('passes through even where startTracing was never called (services started in-process)', () => {
    expect(traceHeaders(contextFromHeaders({ traceparent: PARENT }))['traceparent']).toBe(PARENT);
  });

  it('passes a record’s trace through a service whose tracing is off', () => {
    expect(startTracing('test', {}).enabled).toBe(false);
    const parent = contextFromHeaders({ traceparent: Buffer.from(PARENT) });
    const span = tracer().startSpan('hop', {}, parent);
    const out = traceHeaders(trace.setSpan(parent, span));
    span.end();
    // Same trace id; the hop adds no span of its own when nothing is recorded.
    expect(out['traceparent']).toBe(PARENT);
  });

  it('reads header values as Buffer, string or array, and writes nothing without a trace', () => {
    expect(traceHeaders(contextFromHeaders({ traceparent: [PARENT] }))['traceparent']).toBe(PARENT);
    expect(traceHeaders(contextFromHeaders({ traceparent: PARENT }))['traceparent']).toBe(PARENT);
    expect(traceHeaders(contextFromHeaders({ 'content-type': 'x' }))).toEqual({});
    expect(traceHeaders(contextFromHeaders({ traceparent: Buffer.from('garbage') }))).toEqual({});
  });
});
