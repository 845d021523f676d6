import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pollUntil } from '@backbone/testing';

/** One service from dist as an OS process, so SIGKILL and SIGSTOP mean what they mean in production. */
export class ServiceProcess {
  private exitInfo: string | undefined;
  private readonly exit: Promise<void>;

  private constructor(
    readonly name: string,
    readonly url: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
    /** When the process was spawned (performance.now()). */
    readonly startedAt: number,
    /** Where this process's output begins in the log file (shared by every start of the service). */
    private readonly logOffset = 0,
  ) {
    this.exit = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = `exited (${signal ?? code})`;
        resolve();
      });
      child.once('error', (err) => {
        this.exitInfo = `failed: ${err.message}`;
        resolve();
      });
    });
  }

  static async start(o: {
    name: string;
    app: string;
    repoRoot: string;
    logDir: string;
    port: number;
    env: Record<string, string>;
    /** Counted from an earlier spawn (a start that failed and was spawned again). */
    startedAt?: number;
  }): Promise<ServiceProcess> {
    const logFile = join(o.logDir, `${o.name}.log`);
    const fd = openSync(logFile, 'a');
    // Where a restart's time goes is read from the log: this line marks the moment of the spawn.
    writeSync(fd, `${JSON.stringify({ level: 30, time: Date.now(), msg: 'fault tier: process spawned' })}\n`);
    const logOffset = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      // The bundled entry point (scripts/bundle-services.js), as npm start runs it.
      child = spawn(process.execPath, [join(o.repoRoot, 'dist', 'apps', o.app, 'src', 'main.bundle.js')], {
        cwd: o.repoRoot,
        // FAULT_LOG_LEVEL=info shows where a restart's time goes (boot, connect, group join); warn keeps the logs small.
        env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: process.env['FAULT_LOG_LEVEL'] ?? 'warn', ...o.env, PORT: String(o.port) },
        stdio: ['ignore', fd, fd],
        // A session of its own, as each broker has (broker.sh runs them under setsid). With the
        // kernel's autogroup scheduling (on here) CPU is shared by session first: left in the test
        // runner's session, all seven services and the runner shared one session's share against
        // each broker's, and a restarted service waited many seconds for a core on 2 cores.
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`${o.name} did not start`);
    return new ServiceProcess(o.name, `http://127.0.0.1:${o.port}`, logFile, child, o.startedAt ?? performance.now(), logOffset);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): string | undefined {
    return this.exitInfo;
  }

  tail(lines = 12): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** What this process (not an earlier start of the service) wrote to its log. */
  ownLog(): string {
    try {
      return readFileSync(this.logFile).subarray(this.logOffset).toString('utf8');
    } catch {
      return '';
    }
  }

  /** Resolves when the process has exited. */
  get exitPromise(): Promise<void> {
    return this.exit;
  }

  /** Resolves when /health/ready answers 200; fails early if the process exits. */
  async ready(timeoutMs = 90_000): Promise<void> {
    await pollUntil(
      async () => {
        if (this.exitInfo) throw new Error(`${this.name} ${this.exitInfo}; log ${this.logFile}:\n${this.tail()}`);
        try {
          return (await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;
        } catch {
          return false;
        }
      },
      { description: `${this.name} ready at ${this.url} (log ${this.logFile})`, timeoutMs, intervalMs: 100 },
    );
  }

  /** A signal to the process; for SIGKILL, resolves once it is gone. */
  async signal(sig: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill(sig);
    if (sig === 'SIGKILL') await this.exit;
  }

  /** SIGTERM (the graceful path: leave the group, flush), SIGKILL after the grace period. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}

/** A free loopback TCP port (closed again before the service binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
