import type pg from 'pg';
import Cursor from 'pg-cursor';

export interface RowStreamOptions {
  /** Rows fetched per round trip; also the most rows held in memory at once. */
  batchRows?: number;
}

/**
 * Every row of one query through one server-side cursor: a single statement (planned once, one
 * index scan), fetched `batchRows` at a time, at most one batch ahead of the consumer, so a slow
 * reader (an HTTP client) holds back the database instead of filling memory. The connection is
 * held until the last row is read or the consumer stops (return/throw), then released.
 */
export async function* streamRows<T extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: readonly unknown[] = [],
  options: RowStreamOptions = {},
): AsyncGenerator<T[]> {
  const batchRows = options.batchRows ?? 2000;
  const client = await pool.connect();
  let failure: Error | undefined;
  // A connection killed while the cursor is open emits 'error' on the client; without a handler that ends the process.
  const onError = (err: Error): void => {
    failure = err;
  };
  client.on('error', onError);
  const cursor = client.query(new Cursor<T>(text, values as unknown[]));
  // One fetch ahead: the server reads and sends the next batch while the consumer works on this
  // one (two batches in memory at most).
  const fetch = (): Promise<T[]> => {
    const p = cursor.read(batchRows);
    // Handled here so a failure while the consumer holds the previous batch is not an unhandled
    // rejection (that would end the process); it is thrown when the consumer asks for the batch.
    p.catch(() => undefined);
    return p;
  };
  let next: Promise<T[]> | null = fetch();
  try {
    for (;;) {
      const rows: T[] = await next;
      next = null;
      if (rows.length === 0) return;
      if (rows.length === batchRows) next = fetch();
      yield rows;
      if (next === null) return;
    }
  } catch (err) {
    failure ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    // A consumer that stopped early leaves a fetch in flight: let it settle before closing.
    if (next) await next.catch((err: unknown) => (failure ??= err instanceof Error ? err : new Error(String(err))));
    if (!failure) await cursor.close().catch((err: unknown) => (failure = err instanceof Error ? err : new Error(String(err))));
    client.off('error', onError);
    // A connection whose cursor failed or was not closed cleanly is not trusted again.
    client.release(failure);
  }
}
