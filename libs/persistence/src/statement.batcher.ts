/**
 * One database round trip for many concurrent callers (group commit for one kind of statement).
 *
 * A call that finds nothing running is sent at once (no added latency when idle); calls that
 * arrive while a batch is running wait and all go together in the next one, so under load the
 * number of statements (and, for writes, of WAL flushes) per second stays about constant while
 * the rows per statement grow. Every call is still executed after it was made: a lookup never
 * answers from a query that started before it arrived.
 *
 * `run` gets the batch's inputs and must answer one output per input, in order; when it throws,
 * every caller of that batch gets the error.
 */
export class StatementBatcher<In, Out> {
  private queue: { input: In; resolve(out: Out): void; reject(err: unknown): void }[] = [];
  private running = false;

  constructor(
    private readonly run: (inputs: readonly In[]) => Promise<readonly Out[]>,
    private readonly maxBatch = 500,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a positive integer, got ${maxBatch}`);
  }

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const outs = await this.run(batch.map((b) => b.input));
          if (outs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outs.length} answers`);
          batch.forEach((b, i) => b.resolve(outs[i]!));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
