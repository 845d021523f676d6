import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import { auditEventCodec } from '@backbone/codec';
import { auditEvent } from '@backbone/kafka';
import { exportChunks, type AgencyFilter, type ExportFormat } from './compliance.queries.js';
import { verifyLedger } from '@backbone/ledger';
import type { LedgerWriter } from './ledger.writer.js';

export interface Rate {
  count: number;
  ms: number;
  perSecond: number;
}

const rate = (count: number, started: number): Rate => {
  const ms = performance.now() - started;
  return { count, ms: Math.round(ms), perSecond: Math.round((count * 1000) / Math.max(ms, 1)) };
};

/** Gate-like DECIDED events (one decision per agency), encoded as they arrive from Kafka. */
export function syntheticAuditRecords(n: number, agencies = 20): Buffer[] {
  const decisions = Array.from({ length: agencies }, (_, i) => ({
    agency: `A${i}-NCB`,
    outcome: 'ALLOW' as const,
    ruleId: 'community.default-allow',
    redactedGroups: [],
    executionFlags: [],
  }));
  return Array.from({ length: n }, () =>
    auditEventCodec.encode(
      auditEvent('DECIDED', 'policy-gate', {
        alertId: randomUUID(),
        alertVersion: 1,
        originator: 'FR-NCB',
        noticeType: 'RED',
        policyVersion: '2026-11-01',
        decisions,
      }),
    ),
  );
}

/** Ledger append rate (decode + chain + chunked insert + commit), without Kafka, in batches like eachBatch. */
export async function measureIngest(writer: LedgerWriter, records: Buffer[], batchSize = 500, topic = 'bench.audit.events'): Promise<Rate> {
  const started = performance.now();
  const base = Date.now() * 1000;
  for (let i = 0; i < records.length; i += batchSize) {
    await writer.append(
      topic,
      0,
      records.slice(i, i + batchSize).map((value, j) => ({ offset: String(base + i + j), value })),
    );
  }
  return rate(records.length, started);
}

export async function measureVerify(pool: pg.Pool, keys: ReadonlyMap<string, KeyObject>): Promise<Rate & { ok: boolean }> {
  const started = performance.now();
  const r = await verifyLedger(pool, keys);
  return { ...rate(r.rows, started), ok: r.ok };
}

export async function measureExport(pool: pg.Pool, filter: AgencyFilter, format: ExportFormat = 'ndjson'): Promise<Rate> {
  const started = performance.now();
  let rows = 0;
  for await (const _chunk of exportChunks(pool, filter, format, (n) => (rows += n))) {
    // drained only: the benchmark measures query + serialisation
  }
  return rate(rows, started);
}
