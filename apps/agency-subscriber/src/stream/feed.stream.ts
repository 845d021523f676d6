import type { ServerResponse } from 'node:http';
import type { Logger } from '@backbone/bootstrap';
import { SPAN_ATTR, SPANS, tracer } from '@backbone/telemetry';
import type { DeskFilter } from '@backbone/inbox-store';
import type { InboxStore } from '../inbox/inbox.store.js';
import type { FeedEvent } from '../inbox/inbox.types.js';
import type { InboxNotifier } from './inbox.notifier.js';

const BATCH = 500;

/**
 * One desk's live feed over one SSE connection.
 *
 * Hand-off without gap or repeat: the session subscribes to new-entry notifications *before* it
 * reads the backlog, and every read is "entries after the last id sent", so a notification that
 * races the backlog read only causes a read that finds nothing new. Reads are serialised (one pump
 * at a time) and ids only grow. The store makes inbox sequence numbers visible in order, so seeing
 * id N means every id below N is already readable: nothing is skipped.
 */
export class FeedStreamSession {
  private lastSent: number;
  private pumping: Promise<void> = Promise.resolve();
  private pumpQueued = false;
  private closed = false;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private revalidation: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly inbox: InboxStore,
    private readonly notifier: InboxNotifier,
    private readonly filter: DeskFilter,
    lastEventId: number,
    private readonly logger: Logger,
    private readonly heartbeatMs: number,
    private readonly onEnd: (s: FeedStreamSession) => void,
    /** The desk this stream serves (the per-desk cap counts by it). */
    readonly deskId: string = '',
    /**
     * Re-checks the credential the stream was opened with. A deleted desk or revoked token ends the
     * stream within `revalidateMs`: authentication at open time alone would leave it streaming forever.
     */
    private readonly stillAuthorized: () => Promise<boolean> = async () => true,
    private readonly revalidateMs = 2000,
  ) {
    this.lastSent = lastEventId;
  }

  start(): void {
    this.unsubscribe = this.notifier.subscribe(() => this.pump());
    this.res.on('close', () => this.close());
    // The heartbeat keeps proxies from timing the stream out and re-checks the inbox, so even a
    // lost notification only delays an entry, never drops it.
    this.heartbeat = setInterval(() => {
      if (this.write(': keep-alive\n\n')) this.pump();
    }, this.heartbeatMs);
    this.revalidation = setInterval(() => {
      this.stillAuthorized().then(
        (ok) => {
          if (ok) return;
          this.logger.info({ deskId: this.deskId }, 'desk credential revoked; ending its stream');
          this.close();
        },
        (err: unknown) =>
          this.logger.warn({ err: (err as Error).message }, 'stream credential re-check failed; kept open until the next check'),
      );
    }, this.revalidateMs);
    this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.revalidation) clearInterval(this.revalidation);
    if (!this.res.writableEnded) this.res.end();
    this.onEnd(this);
  }

  private pump(): void {
    if (this.closed || this.pumpQueued) return;
    this.pumpQueued = true;
    this.pumping = this.pumping.then(async () => {
      this.pumpQueued = false;
      try {
        for (;;) {
          if (this.closed) return;
          const readAt = Date.now();
          const events = await this.inbox.feedAfter(this.filter, this.lastSent, BATCH);
          for (const event of events) {
            if (this.closed) return;
            if (event.seq <= this.lastSent) continue;
            const ok = this.write(formatEvent(event));
            // The last stage of an alert's path: from the inbox read to the event written to the desk.
            const attributes = { [SPAN_ATTR.alertId]: event.alertId, [SPAN_ATTR.alertVersion]: event.version };
            tracer().startSpan(SPANS.deskSent, { attributes, startTime: readAt }).end();
            this.lastSent = event.seq;
            if (!ok) await this.drained();
          }
          if (events.length < BATCH) return;
        }
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'feed stream failed; closing it (the client resumes with Last-Event-ID)');
        this.close();
      }
    });
  }

  private write(chunk: string): boolean {
    if (this.closed || this.res.writableEnded) return false;
    return this.res.write(chunk);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}

/** SSE framing: the id is the inbox sequence number; the event name says what happened. */
export function formatEvent(event: FeedEvent): string {
  const name = event.msgType === 'Cancel' ? 'cancel' : event.msgType === 'Update' ? 'update' : 'alert';
  return `id: ${event.seq}\nevent: ${name}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The open sessions, so shutdown can end them (an open SSE response would keep the server from closing). */
export class FeedStreamRegistry {
  private readonly sessions = new Set<FeedStreamSession>();

  add(session: FeedStreamSession): void {
    this.sessions.add(session);
  }

  remove(session: FeedStreamSession): void {
    this.sessions.delete(session);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Open streams of one desk. */
  countFor(deskId: string): number {
    let n = 0;
    for (const s of this.sessions) if (s.deskId === deskId) n++;
    return n;
  }

  closeAll(): void {
    for (const s of [...this.sessions]) s.close();
  }
}
