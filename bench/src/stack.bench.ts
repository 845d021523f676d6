import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase } from '@backbone/persistence';
import type { BenchContext } from './bench.context.js';
import { figure, notMeasured, type Figures } from './figures.js';
import { sleep } from './service.process.js';

/** Clock ticks a second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux Node supports). */
const TICKS = 100;

/** CPU time (utime + stime, in ticks) of every live process in process group `pgid`, in all and per process. */
export function groupCpuTicks(pgid: number): { ticks: number; processes: number; byProcess: Map<string, number> } {
  let ticks = 0;
  let processes = 0;
  const byProcess = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(join('/proc', entry, 'stat'), 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name (which may hold spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
    const own = Number(fields[11]) + Number(fields[12]); // fields 14, 15: utime, stime
    ticks += own;
    processes++;
    byProcess.set(`${entry} ${processName(entry)}`, own);
  }
  return { ticks, processes, byProcess };
}

/** A short name for a stack process: the app of dist/apps/<app>/src/<entry>(.bundle).js, else the script. */
function processName(pid: string): string {
  try {
    const cmd = readFileSync(join('/proc', pid, 'cmdline'), 'utf8')
      .split('\0')
      .join(' ');
    const app = /apps\/([a-z-]+)\/src\/([a-z.]+?)(?:\.bundle)?\.js/.exec(cmd);
    if (app) return app[2] === 'main' ? app[1]! : `${app[1]!} (${app[2]!})`;
    return /([\w.-]+\.js)/.exec(cmd)?.[1] ?? cmd.slice(0, 40);
  } catch {
    return '?';
  }
}

/**
 * `npm start` as a user runs it (scripts/start.js on the built tree, every service, the demo data)
 * on its own database and ports: start.ready_s until it says it is running, then idle.cpu_percent
 * of the whole stack (every process in its group) over an idle window, in percent of one core.
 * Skipped when another stack already consumes this broker's real topics (the demo gate's
 * transactional id would fence it).
 */
export async function benchStack(ctx: BenchContext, idleSeconds: number): Promise<Figures> {
  const names = ['start.ready_s', 'idle.cpu_percent'];
  const admin = ctx.kafka('bench-stack-admin').admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups(['policy-gate']);
    if ((groups[0]?.members.length ?? 0) > 0)
      return Object.fromEntries(
        names.map((n) => [n, notMeasured(n.endsWith('_s') ? 's' : '%', 'another npm start stack is running on this broker')]),
      );
  } finally {
    await admin.disconnect();
  }
  const db = await createTestDatabase({ baseUrl: ctx.databaseUrl, label: 'stack' });
  const started = performance.now();
  const child = spawn(process.execPath, [join(ctx.repoRoot, 'scripts', 'start.js')], {
    cwd: ctx.repoRoot,
    detached: true,
    env: { ...process.env, DATABASE_URL: db.url, BACKBONE_PORT_BASE: '18580' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid!;
  let output = '';
  let exited = false;
  child.on('exit', () => (exited = true));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('Backbone is running.')) resolve();
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) =>
      reject(new Error(`npm start exited (${code}) before it was ready: ${output.split('\n').slice(-4).join(' ')}`)),
    );
  });
  try {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      ready,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('npm start not ready within 600 s')), 600_000))),
    ]).finally(() => clearTimeout(timer));
    const readyS = (performance.now() - started) / 1000;
    // Let start-up work (consumer joins, first checkpoints) settle before the idle window.
    await sleep(5000);
    const a = groupCpuTicks(pgid);
    const t0 = performance.now();
    await sleep(idleSeconds * 1000);
    const b = groupCpuTicks(pgid);
    const seconds = (performance.now() - t0) / 1000;
    const percent = ((b.ticks - a.ticks) / TICKS / seconds) * 100;
    // Who burns it: each process's share over the same window (largest first).
    const shares = [...b.byProcess]
      .map(([name, t]) => [name.replace(/^\d+ /, ''), ((t - (a.byProcess.get(name) ?? t)) / TICKS / seconds) * 100] as const)
      .sort((x, y) => y[1] - x[1])
      .map(([name, p]) => `${name} ${p.toFixed(1)} %`);
    return {
      'start.ready_s': figure(
        readyS,
        's',
        30,
        'node scripts/start.js on a built tree, broker already up: every service ready and the demo data loaded; ceiling: the 30 s goal',
      ),
      'idle.cpu_percent': figure(
        percent,
        '% of one core',
        5,
        `all ${b.processes} processes of the npm start stack over ${seconds.toFixed(0)} idle s (${shares.join(', ')}); ceiling: the 5 % goal`,
      ),
    };
  } catch (err) {
    ctx.log(`stack: ${(err as Error).message}`);
    return Object.fromEntries(
      names.map((n) => [n, notMeasured(n.endsWith('_s') ? 's' : '%', `not measured: ${(err as Error).message.split('\n')[0]}`)]),
    );
  } finally {
    if (!exited) {
      process.kill(pgid, 'SIGTERM');
      for (let i = 0; i < 40 && !exited; i++) await sleep(250);
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    await db.drop().catch((err: unknown) => ctx.log(`stack: could not drop ${db.name}: ${(err as Error).message}`));
  }
}
