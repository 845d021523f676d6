import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KafkaConnection } from '@backbone/kafka';
import { pollUntil } from '@backbone/testing';
import { freePort, ServiceProcess } from './service.process.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** PostgreSQL refusing a connection because every slot is taken (SQLSTATE 53300). */
const SERVER_FULL = /remaining connection slots are reserved[^"\n]*|too many clients already/;
/** Bound on start-ups repeated for that reason over a whole run. */
const MAX_RESPAWNS = 20;

type App = 'notice-publisher' | 'policy-gate' | 'agency-subscriber' | 'audit-logger';

interface Spec {
  app: App;
  port: number;
  env: Record<string, string>;
}

/**
 * The whole backbone as separate OS processes from dist (npm run build): each service keeps its
 * name, port and environment across restarts, so a restarted one is the same deployment.
 */
export class FaultPipeline {
  private readonly specs = new Map<string, Spec>();
  private readonly procs = new Map<string, ServiceProcess>();
  private readonly respawns: string[] = [];
  readonly logDir: string;

  constructor(
    private readonly baseEnv: Record<string, string>,
    runId: string,
  ) {
    this.logDir = join(REPO_ROOT, '.backbone', 'test-results', `faults-${runId}`);
    mkdirSync(this.logDir, { recursive: true });
  }

  static kafkaEnv(conn: KafkaConnection, caFile: string, prefix: string): Record<string, string> {
    return {
      KAFKA_BROKERS: conn.brokers.join(','),
      KAFKA_TLS: 'true',
      KAFKA_CA_FILE: caFile,
      KAFKA_SASL_MECHANISM: conn.sasl?.mechanism ?? 'none',
      KAFKA_SASL_USERNAME: conn.sasl?.username ?? '',
      KAFKA_SASL_PASSWORD: conn.sasl?.password ?? '',
      KAFKA_TOPIC_PREFIX: prefix,
    };
  }

  async add(name: string, app: App, env: Record<string, string> = {}): Promise<ServiceProcess> {
    this.specs.set(name, { app, port: await freePort(), env });
    return this.start(name);
  }

  private async start(name: string, startedAt?: number): Promise<ServiceProcess> {
    const spec = this.specs.get(name)!;
    const p = await ServiceProcess.start({
      name,
      app: spec.app,
      repoRoot: REPO_ROOT,
      logDir: this.logDir,
      port: spec.port,
      env: { ...this.baseEnv, ...spec.env },
      ...(startedAt !== undefined ? { startedAt } : {}),
    });
    this.procs.set(name, p);
    void p.exitPromise.then(() => this.respawnIfRefusedByServer(name, p));
    return p;
  }

  /**
   * The machine's PostgreSQL server is shared (other test runs use it too): when its connection
   * slots are all taken at the moment a service starts, the service refuses to start and exits,
   * and the tier, like an orchestrator, starts it again. Only that start failure: any other exit
   * is left for exitedOnTheirOwn() to report. Each such restart is listed by startFailures.
   */
  private respawnIfRefusedByServer(name: string, p: ServiceProcess): void {
    if (this.procs.get(name) !== p || !this.refusedByServer(p)) return;
    this.respawns.push(`${name}: ${SERVER_FULL.exec(p.ownLog())?.[0] ?? 'start refused'}`);
    void this.start(name, p.startedAt);
  }

  private refusedByServer(p: ServiceProcess): boolean {
    const log = p.ownLog();
    return p.exited !== undefined && /failed to start/.test(log) && SERVER_FULL.test(log) && this.respawns.length < MAX_RESPAWNS;
  }

  /** Start failures of the shared PostgreSQL server (no free connection slot) that were started again. */
  get startFailures(): readonly string[] {
    return this.respawns;
  }

  /** Resolves when the service (its current process) answers /health/ready; fails if it exited for good. */
  async ready(name: string, timeoutMs = 90_000): Promise<void> {
    await pollUntil(
      async () => {
        const p = this.get(name);
        if (p.exited && !this.refusedByServer(p)) throw new Error(`${name} ${p.exited}; log ${p.logFile}:\n${p.tail()}`);
        try {
          return (await fetch(`${this.url(name)}/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
        } catch {
          return false;
        }
      },
      { description: `${name} ready at ${this.url(name)} (log ${join(this.logDir, `${name}.log`)})`, timeoutMs, intervalMs: 100 },
    );
  }

  get(name: string): ServiceProcess {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no service ${name}`);
    return p;
  }

  names(app?: App): string[] {
    return [...this.specs].filter(([, s]) => !app || s.app === app).map(([n]) => n);
  }

  url(name: string): string {
    return `http://127.0.0.1:${this.specs.get(name)!.port}`;
  }

  /** SIGKILL (no shutdown hook, no group leave, an open transaction left open), then start it again at once. */
  async killAndRestart(name: string): Promise<ServiceProcess> {
    await this.get(name).signal('SIGKILL');
    return this.start(name);
  }

  /** Graceful removal (SIGTERM): the instance leaves its group. */
  async remove(name: string): Promise<void> {
    await this.procs.get(name)?.stop();
    this.procs.delete(name);
    this.specs.delete(name);
  }

  /** Every service still running, with the reason for any that exited by itself. */
  exitedOnTheirOwn(): string[] {
    return [...this.procs.values()].filter((p) => p.exited).map((p) => `${p.name} ${p.exited}: ${p.tail(5)}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop().catch(() => undefined)));
    this.procs.clear();
  }
}
