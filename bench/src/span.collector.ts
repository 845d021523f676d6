import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One finished span as the bench needs it: what, for which alert, when (epoch ms). */
export interface CollectedSpan {
  name: string;
  service: string;
  alertId: string | null;
  startMs: number;
  endMs: number;
}

type OtlpValue = { stringValue?: string; intValue?: string | number };
type OtlpAttr = { key: string; value?: OtlpValue };
type OtlpTime = string | number | { low: number; high: number };
interface OtlpSpan {
  name: string;
  startTimeUnixNano: OtlpTime;
  endTimeUnixNano: OtlpTime;
  attributes?: OtlpAttr[];
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: OtlpAttr[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

/** OTLP/JSON encodes 64-bit nanoseconds as a decimal string (or, from some encoders, a number or low/high pair). */
export function nanosToMs(t: OtlpTime): number {
  if (typeof t === 'string') return Number(BigInt(t) / 1000n) / 1000;
  if (typeof t === 'number') return t / 1e6;
  return ((t.high >>> 0) * 2 ** 32 + (t.low >>> 0)) / 1e6;
}

const attr = (attrs: OtlpAttr[] | undefined, key: string): string | null => {
  const v = attrs?.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? String(v.intValue) : null);
};

/** The spans of one OTLP/HTTP JSON export request. */
export function parseOtlpJson(body: OtlpRequest, alertIdKey: string): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const service = attr(rs.resource?.attributes, 'service.name') ?? 'unknown';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          name: s.name,
          service,
          alertId: attr(s.attributes, alertIdKey),
          startMs: nanosToMs(s.startTimeUnixNano),
          endMs: nanosToMs(s.endTimeUnixNano),
        });
      }
    }
  }
  return out;
}

/**
 * An in-process OTLP/HTTP receiver (JSON, the encoding of @opentelemetry/exporter-trace-otlp-http):
 * the bench points every service's OTEL_EXPORTER_OTLP_ENDPOINT here and keeps what arrives.
 */
export class SpanCollector {
  readonly spans: CollectedSpan[] = [];
  private server: Server | undefined;
  private rejected = 0;

  constructor(private readonly alertIdKey: string) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          let raw = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
          if (req.url !== '/v1/traces' || !String(req.headers['content-type'] ?? '').includes('json'))
            throw new Error('not OTLP/JSON traces');
          this.spans.push(...parseOtlpJson(JSON.parse(raw.toString('utf8')) as OtlpRequest, this.alertIdKey));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          this.rejected++;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return `http://127.0.0.1:${port}`;
  }

  get rejectedRequests(): number {
    return this.rejected;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
