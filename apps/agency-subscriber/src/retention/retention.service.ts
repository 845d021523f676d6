import type { Logger } from '@backbone/bootstrap';
import type { AuditRelay } from '../audit/audit.relay.js';
import type { InboxStore, PurgeResult } from '../inbox/inbox.store.js';

/** Purges expired and over-age alerts on a timer; `purgeNow` is the same pass on demand (tests, operators). */
export class RetentionService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly inbox: InboxStore,
    private readonly relay: AuditRelay,
    private readonly retentionDays: number,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.purgeNow().catch((err: unknown) =>
        this.logger.error({ err: (err as Error).message }, 'retention purge failed; next pass retries'),
      );
    }, this.intervalMs);
    // A timer alone must not keep a process alive that is otherwise done.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One purge pass as of `now`; passes never overlap. */
  purgeNow(now: Date = new Date()): Promise<PurgeResult> {
    const pass = this.running.then(async () => {
      const result = await this.inbox.purge(now, this.retentionDays);
      if (result.purged.length > 0) {
        this.logger.info({ purged: result.purged.length }, 'retention purge removed alert content');
        this.relay.kick();
      }
      return result;
    });
    this.running = pass.catch(() => undefined);
    return pass;
  }
}
