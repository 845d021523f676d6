import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { peakRssMb } from './process.stats.js';

/** One service running from dist as a child process of the benchmark, so its memory is its own. */
export interface ServiceProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  /** Peak RSS so far (VmHWM), in MiB; null once the process is gone. */
  peakRssMb(): number | null;
  /** Resolves when /health/ready answers 200; rejects early if the process exits. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
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

export async function startService(opts: {
  name: string;
  app: string;
  repoRoot: string;
  logDir: string;
  env: Record<string, string>;
}): Promise<ServiceProcess> {
  const port = await freePort();
  const logFile = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // The bundled entry point (scripts/bundle-services.js), as npm start runs it.
    child = spawn(process.execPath, [join(opts.repoRoot, 'dist', 'apps', opts.app, 'src', 'main.bundle.js')], {
      cwd: opts.repoRoot,
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...opts.env, PORT: String(port) },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${opts.name} did not start`);
  let exited = false;
  let exitInfo = '';
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = `exited (${signal ?? code})`;
      resolve();
    });
    child.once('error', (err) => {
      exited = true;
      exitInfo = `failed: ${err.message}`;
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const tail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n');
    } catch {
      return '';
    }
  };
  return {
    name: opts.name,
    url,
    pid,
    logFile,
    get exited() {
      return exited;
    },
    peakRssMb: () => (exited ? null : peakRssMb(pid)),
    async ready(timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < until) {
        if (exited) throw new Error(`${opts.name} ${exitInfo} before it was ready; log ${logFile}:\n${tail()}`);
        try {
          const r = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
          if (r.ok) return;
          last = `HTTP ${r.status}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await sleep(150);
      }
      throw new Error(`${opts.name} not ready at ${url} within ${timeoutMs / 1000} s (${last}); log ${logFile}:\n${tail()}`);
    },
    async stop(graceMs = 8000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * RSS of a Node process that only imports the backbone's named frameworks (Nest with Fastify and
 * its microservices package, KafkaJS, TypeORM, pg, avsc) and then idles: the part of every
 * service's memory that is the platform's, not the service's, in MiB.
 */
export async function frameworksNodeRssMb(repoRoot: string): Promise<number | null> {
  const imports = ['@nestjs/core', '@nestjs/platform-fastify', '@nestjs/microservices', 'kafkajs', 'typeorm', 'pg', 'avsc'];
  const script = `${imports.map((m) => `await import('${m}');`).join(' ')} process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.on('exit', () => resolve(false));
    });
    if (!ready || child.pid === undefined) return null;
    await sleep(700);
    return peakRssMb(child.pid);
  } finally {
    child.kill('SIGKILL');
  }
}

/** RSS of a bare Node process doing nothing (the floor every service's memory sits on), in MiB. */
export async function idleNodeRssMb(): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    await sleep(700);
    return child.pid === undefined ? null : peakRssMb(child.pid);
  } finally {
    child.kill('SIGKILL');
  }
}
