import type { DataSource } from 'typeorm';

export interface PingResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  /** Why the check failed; never contains the connection URL. */
  readonly error?: string;
}

/**
 * Readiness check: `SELECT 1` within `timeoutMs`. Never throws, so a health endpoint can report
 * the result as is. The timeout also covers waiting for a free pool connection, which is what
 * usually stalls first when the database is in trouble.
 */
export async function pingDatabase(dataSource: DataSource, timeoutMs = 1000): Promise<PingResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (!dataSource.isInitialized) return { ok: false, latencyMs: 0, error: 'data source not initialised' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PingResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, latencyMs: elapsed(), error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const query = dataSource.query('SELECT 1').then(
    (): PingResult => ({ ok: true, latencyMs: elapsed() }),
    (e: unknown): PingResult => ({ ok: false, latencyMs: elapsed(), error: e instanceof Error ? e.message : String(e) }),
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
