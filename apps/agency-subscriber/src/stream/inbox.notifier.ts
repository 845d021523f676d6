import pg from 'pg';
import type { Logger } from '@backbone/bootstrap';

export type SeqListener = (seq: number) => void;

/**
 * Announces new inbox sequence numbers: the store NOTIFYs inside its transaction, PostgreSQL
 * delivers after commit, so a listener never hears of a row it cannot read. LISTEN (not an
 * in-process emitter) keeps this right when several replicas serve one agency's desks.
 * If the connection drops it reconnects, and tells listeners to re-check (seq 0 = "look again").
 */
export class InboxNotifier {
  private client: pg.Client | undefined;
  private readonly listeners = new Set<SeqListener>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel) return;
      this.emit(Number(msg.payload ?? 0));
    });
    client.on('error', (err) => {
      this.logger.warn({ err: err.message }, 'inbox notification connection lost; reconnecting');
      this.scheduleReconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    this.client = client;
  }

  subscribe(listener: SeqListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.listeners.clear();
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private emit(seq: number): void {
    for (const l of this.listeners) l(seq);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const stale = this.client;
    this.client = undefined;
    void stale?.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.start()
        .then(() => this.emit(0))
        .catch((err: unknown) => {
          this.logger.warn({ err: (err as Error).message }, 'inbox notification reconnect failed');
          this.scheduleReconnect();
        });
    }, 1000);
  }
}
