export {
  startTracing,
  otlpTracesEndpoint,
  tracer,
  contextFromHeaders,
  traceHeaders,
  inSpan,
  SPAN_ATTR,
  SPANS,
  context,
  trace,
} from './tracing.js';
export type { Tracing, KafkaHeaders, Context, Span } from './tracing.js';
