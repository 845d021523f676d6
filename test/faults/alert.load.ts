/**
 * A liaison office's steady load over HTTP: creates, updates and cancels, each with its own
 * Idempotency-Key and retried with that same key after a 5xx, a 409 "in progress", a refused
 * connection or a timeout, until it gets a definitive answer (or the retry deadline passes).
 * Every request carries a marker (the key) in its headline (or cancel note), so the checker can
 * count how many times a key's content was published.
 */

export type Op = 'create' | 'update' | 'cancel';

export interface RequestRecord {
  key: string;
  op: Op;
  /** The alert an update or cancel targets. */
  target: string | null;
  scenario: string;
  attempts: number;
  /** True once an attempt was answered 5xx / 409 in-progress, or failed or timed out. */
  retried: boolean;
  /** Final HTTP status; null when the retry deadline passed without a definitive answer. */
  status: number | null;
  alertId: string | null;
  version: number | null;
  reason: string | null;
}

const REQUEST_TIMEOUT_MS = 10_000;
const RETRY_DEADLINE_MS = 60_000;

export function alertBody(marker: string): Record<string, unknown> {
  return {
    status: 'Actual',
    scope: 'Restricted',
    noticeType: 'RED',
    purposes: ['ARREST_EXTRADITION'],
    headline: marker,
    description: 'Sought for prosecution for armed robbery committed in Lyon.',
    urgency: 'Immediate',
    severity: 'Severe',
    certainty: 'Likely',
    tlp: 'AMBER',
    handlingCode: 'H1',
    sourceReliability: 'B',
    informationAccuracy: 2,
    addressing: { mode: 'ALL' },
    expires: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    area: { description: 'Schengen area', countries: ['FR', 'DE'] },
    subject: { familyName: 'DUPONT', forenames: 'Jean', nationalities: ['FR'] },
  };
}

export class AlertLoad {
  readonly records: RequestRecord[] = [];
  private readonly active: string[] = [];
  private scenario = 'warm-up';
  private running = false;
  private workers: Promise<void>[] = [];
  private inFlight = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly publisherUrl: () => string,
    private readonly token: string,
    private readonly runId: string,
    private readonly concurrency = 3,
    private readonly pauseMs = 150,
  ) {}

  setScenario(name: string): void {
    this.scenario = name;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, () => this.worker());
  }

  /** Stops issuing requests and waits until every started one has its definitive answer. */
  async pause(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    await Promise.all([...this.inFlight]);
  }

  /** One request, with retries, outside the steady load (the recovery probe). */
  async create(): Promise<RequestRecord> {
    return this.send('create', null);
  }

  private async worker(): Promise<void> {
    while (this.running) {
      const r = Math.random();
      let op: Op = 'create';
      let target: string | null = null;
      if (this.active.length > 5 && r < 0.25) {
        op = 'update';
        target = this.active[Math.floor(Math.random() * this.active.length)]!;
      } else if (this.active.length > 5 && r < 0.35) {
        op = 'cancel';
        target = this.active.splice(Math.floor(Math.random() * this.active.length), 1)[0]!;
      }
      const p = this.send(op, target).then(() => undefined);
      this.inFlight.add(p);
      await p;
      this.inFlight.delete(p);
      await new Promise((resolve) => setTimeout(resolve, this.pauseMs));
    }
  }

  private async send(op: Op, target: string | null): Promise<RequestRecord> {
    const key = `fk-${this.runId}-${++this.seq}`;
    const rec: RequestRecord = {
      key,
      op,
      target,
      scenario: this.scenario,
      attempts: 0,
      retried: false,
      status: null,
      alertId: null,
      version: null,
      reason: null,
    };
    this.records.push(rec);
    const path = op === 'create' ? '/alerts' : op === 'update' ? `/alerts/${target}/updates` : `/alerts/${target}/cancel`;
    const body = op === 'cancel' ? { note: key } : alertBody(key);
    const deadline = Date.now() + RETRY_DEADLINE_MS;
    let delay = 250;
    while (Date.now() < deadline) {
      rec.attempts++;
      try {
        const res = await fetch(`${this.publisherUrl()}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const json = (await res.json().catch(() => ({}))) as { alertId?: string; version?: number; reason?: string };
        if (res.status === 201) {
          rec.status = 201;
          rec.alertId = json.alertId ?? null;
          rec.version = json.version ?? null;
          if (op !== 'cancel' && rec.alertId && !this.active.includes(rec.alertId)) this.active.push(rec.alertId);
          return rec;
        }
        const inProgress = res.status === 409 && json.reason === 'idempotency-key-in-progress';
        if (res.status < 500 && !inProgress) {
          rec.status = res.status;
          rec.reason = json.reason ?? null;
          return rec;
        }
        rec.retried = true;
        rec.reason = json.reason ?? `HTTP ${res.status}`;
      } catch (err) {
        rec.retried = true;
        rec.reason = (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(2_000, delay * 2);
    }
    return rec;
  }
}
