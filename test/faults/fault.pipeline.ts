import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KafkaConnection } from '@backbone/kafka';
import { freePort, ServiceProcess } from './service.process.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

  private async start(name: string): Promise<ServiceProcess> {
    const spec = this.specs.get(name)!;
    const p = await ServiceProcess.start({
      name,
      app: spec.app,
      repoRoot: REPO_ROOT,
      logDir: this.logDir,
      port: spec.port,
      env: { ...this.baseEnv, ...spec.env },
    });
    this.procs.set(name, p);
    return p;
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
