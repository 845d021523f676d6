import type pg from 'pg';

// COPY through node-postgres without another dependency: a "submittable" is how pg lets a caller
// drive the protocol itself (pg-cursor and pg-copy-streams are built the same way). These two are
// just enough for the bench's ceilings: every chunk in memory, no back-pressure.

interface Connection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

abstract class CopySubmittable {
  private error: Error | undefined;
  private settle: { resolve: (v: number) => void; reject: (e: Error) => void } | undefined;
  protected rows = 0;
  readonly done = new Promise<number>((resolve, reject) => (this.settle = { resolve, reject }));

  constructor(private readonly text: string) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }
  handleCommandComplete(msg: { text?: string }): void {
    const n = /(\d+)$/.exec(msg.text ?? '');
    if (n && this.rows === 0) this.rows = Number(n[1]);
  }
  handleError(err: Error): void {
    this.error = err;
  }
  handleReadyForQuery(): void {
    if (this.error) this.settle?.reject(this.error);
    else this.settle?.resolve(this.rows);
  }
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyInResponse(_connection: Connection): void {}
  handleCopyData(_msg: unknown): void {}
}

class CopyIn extends CopySubmittable {
  constructor(
    text: string,
    private readonly chunks: readonly Buffer[],
  ) {
    super(text);
  }
  override handleCopyInResponse(connection: Connection): void {
    for (const c of this.chunks) connection.sendCopyFromChunk(c);
    connection.endCopyFrom();
  }
}

class CopyOut extends CopySubmittable {
  bytes = 0;
  override handleCopyData(msg: { chunk?: Buffer }): void {
    // COPY TO sends one CopyData message per row.
    this.rows++;
    this.bytes += msg.chunk?.length ?? 0;
  }
}

/** COPY … FROM STDIN with the given (already formatted) data; resolves with the rows copied. */
export function copyFrom(client: pg.Client, text: string, chunks: readonly Buffer[]): Promise<number> {
  const copy = new CopyIn(text, chunks);
  void client.query(copy as unknown as pg.QueryConfig);
  return copy.done;
}

/** COPY … TO STDOUT, counting the rows as they stream in; resolves with the rows read. */
export function copyTo(client: pg.Client, text: string): Promise<number> {
  const copy = new CopyOut(text);
  void client.query(copy as unknown as pg.QueryConfig);
  return copy.done;
}
