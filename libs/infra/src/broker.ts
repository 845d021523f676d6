import { spawn } from 'node:child_process';
// kafkajs is CommonJS whose exports Node's ESM loader cannot list: named value imports fail outside jest.
import kafkajs from 'kafkajs';

import { connectionInfo, kafkaConnection, type ConnectionInfo, type LocationOptions } from './credentials.js';
import { backboneHome, brokerScript, kafkaStateDir, repoRoot } from './paths.js';

const { Kafka, logLevel } = kafkajs;

export interface BrokerOptions extends LocationOptions {
  /** Where the broker script's progress lines go; default stderr. Never receives secrets. */
  log?: (line: string) => void;
  /** Extra environment for broker.sh, e.g. BACKBONE_KAFKA_PORT / BACKBONE_KAFKA_CONTROLLER_PORT for a second broker. */
  env?: Record<string, string>;
}

export interface EnsureBrokerOptions extends BrokerOptions {
  /** 1 (default for a new cluster; an existing cluster keeps its size) or 3 (RF 3, min ISR 2). */
  nodes?: 1 | 3;
  /** Deadline for the whole start, including a first-run Maven resolve. Default 300 s. */
  timeoutMs?: number;
}

export interface BrokerInfo extends ConnectionInfo {
  stateDir: string;
  credentialsFile: string;
}

export interface BrokerNodeStatus {
  node: number;
  state: 'up' | 'starting' | 'down';
  pid: number | null;
  address: string;
}

export interface BrokerStatus {
  /** Every node's process is alive and its client port accepts connections. */
  up: boolean;
  nodes: number;
  brokers: string[];
  stateDir: string;
  members: BrokerNodeStatus[];
}

interface ScriptResult {
  code: number;
  stdout: string;
}

const defaultLog = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function runScript(args: string[], opts: BrokerOptions & { timeoutMs?: number; quiet?: boolean }): Promise<ScriptResult> {
  const root = repoRoot();
  const log = opts.log ?? defaultLog;
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [brokerScript(root), ...args], {
      cwd: root,
      env: { ...process.env, ...opts.env, BACKBONE_HOME: opts.home ?? backboneHome() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      if (!opts.quiet) lines.forEach((l) => log(l));
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGTERM');
            reject(new Error(`broker.sh ${args[0]} did not finish within ${opts.timeoutMs} ms`));
          }, opts.timeoutMs);
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (pending && !opts.quiet) log(pending);
      resolvePromise({ code: code ?? 1, stdout });
    });
  });
}

/** Runs broker.sh with the given arguments and returns its stdout; fails on a non-zero exit. */
export async function brokerCommand(args: string[], opts: BrokerOptions & { timeoutMs?: number } = {}): Promise<string> {
  const result = await runScript(args, opts);
  if (result.code !== 0) throw new Error(`infra/kafka/broker.sh ${args[0]} failed with exit code ${result.code}`);
  return result.stdout;
}

/**
 * Starts the local secured broker unless it already runs (a dead or killed one is restarted), then proves
 * it answers over TLS + SCRAM as admin. Idempotent and safe to call from concurrent processes.
 */
export async function ensureBroker(opts: EnsureBrokerOptions = {}): Promise<BrokerInfo> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  await brokerCommand(['up', ...(opts.nodes ? ['--nodes', String(opts.nodes)] : [])], { ...opts, timeoutMs });
  const home = opts.home ?? backboneHome();
  const kafka = new Kafka({
    clientId: 'backbone-infra',
    ...kafkaConnection('admin', { home }),
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let lastError: unknown;
  try {
    // The script already saw the broker start; this proves the TLS chain and the admin credential too.
    while (Date.now() < deadline) {
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length >= (opts.nodes ?? 1)) return info(home);
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  throw new Error(`broker started but does not accept admin over SASL_SSL: ${(lastError as Error | undefined)?.message ?? 'timeout'}`);
}

function info(home: string): BrokerInfo {
  const stateDir = kafkaStateDir(home);
  return { ...connectionInfo({ home }), stateDir, credentialsFile: `${stateDir}/credentials.json` };
}

/** Stops every node of the local broker; its data stays for the next `ensureBroker`. */
export async function stopBroker(opts: BrokerOptions = {}): Promise<void> {
  await brokerCommand(['down'], opts);
}

export async function brokerStatus(opts: BrokerOptions = {}): Promise<BrokerStatus> {
  const result = await runScript(['status', '--json'], { ...opts, quiet: true });
  const raw = JSON.parse(result.stdout) as Omit<BrokerStatus, 'brokers'> & { brokers: string };
  return { ...raw, brokers: raw.brokers ? raw.brokers.split(',') : [] };
}
