/**
 * One database round trip for many concurrent callers (group commit for one kind of statement).
 *
 * Calls made in the same turn of the event loop go together (a group commit that acknowledges ten
 * requests at once makes their ten follow-up writes one statement); up to `concurrency` batches
 * run at once, and what arrives while they all run waits for the next free one, so under load the
 * number of statements (and, for writes, of WAL flushes) per second stays about constant while
 * the rows per statement grow. No timer: an idle batcher adds no latency beyond that turn. Every
 * call is still executed after it was made: a lookup never answers from a query that started
 * before it arrived.
 *
 * `run` gets the batch's inputs and must answer one output per input, in order; when it throws,
 * every caller of that batch gets the error.
 */
export class StatementBatcher<In, Out> {
  private readonly queue: { input: In; resolve(out: Out): void; reject(err: unknown): void }[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly run: (inputs: readonly In[]) => Promise<readonly Out[]>,
    private readonly opts: { maxBatch?: number; concurrency?: number } = {},
  ) {
    for (const [name, v] of Object.entries(opts)) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`${name} must be a positive integer, got ${String(v)}`);
    }
  }

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.running >= (this.opts.concurrency ?? 2)) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.running >= (this.opts.concurrency ?? 2)) return;
      void this.send(this.queue.splice(0, this.opts.maxBatch ?? 500));
      this.schedule();
    });
  }

  private async send(batch: { input: In; resolve(out: Out): void; reject(err: unknown): void }[]): Promise<void> {
    this.running++;
    try {
      const outs = await this.run(batch.map((b) => b.input));
      if (outs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outs.length} answers`);
      batch.forEach((b, i) => b.resolve(outs[i]!));
    } catch (err) {
      for (const b of batch) b.reject(err);
    } finally {
      this.running--;
      this.schedule();
    }
  }
}
