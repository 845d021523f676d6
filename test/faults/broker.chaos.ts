import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Admin } from 'kafkajs';
import { nodePidFile, nodePorts, type FaultCluster } from './fault.cluster.js';

const exec = promisify(execFile);

export function brokerPid(c: FaultCluster, node: number): number {
  return Number(readFileSync(nodePidFile(c, node), 'utf8').trim());
}

/** The node leading the most partitions of `topic` (node ids are 1..3, as broker.sh numbers them). */
export async function busiestLeader(admin: Admin, topic: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const counts = new Map<number, number>();
  for (const p of topics[0]!.partitions) counts.set(p.leader, (counts.get(p.leader) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

export function signalBroker(c: FaultCluster, node: number, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
  process.kill(brokerPid(c, node), sig);
}

/** Whether iptables can be used here (root, the binary present, the filter table reachable). */
export async function iptablesUsable(): Promise<string | null> {
  try {
    await exec('iptables', ['-w', '-S', 'INPUT']);
    return null;
  } catch (err) {
    return `iptables unusable: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Cuts one node off on loopback: every packet to or from its client and controller ports is
 * dropped, so neither the other nodes nor any client can reach it, nor it them over those
 * connections. Only this cluster's own ports are matched; nothing else on the machine changes.
 */
function rules(c: FaultCluster, node: number): string[][] {
  const { client, controller } = nodePorts(c, node);
  const out: string[][] = [];
  for (const port of [client, controller]) {
    out.push(['INPUT', '-i', 'lo', '-p', 'tcp', '--dport', String(port), '-j', 'DROP', '-m', 'comment', '--comment', 'backbone-faults']);
    out.push(['INPUT', '-i', 'lo', '-p', 'tcp', '--sport', String(port), '-j', 'DROP', '-m', 'comment', '--comment', 'backbone-faults']);
  }
  return out;
}

export async function partitionNode(c: FaultCluster, node: number): Promise<void> {
  for (const r of rules(c, node)) await exec('iptables', ['-w', '-I', ...r]);
}

export async function healNode(c: FaultCluster, node: number): Promise<void> {
  for (const r of rules(c, node)) await exec('iptables', ['-w', '-D', ...r]).catch(() => undefined);
}
