// Jest globalSetup for the fault tier: a 3-broker KRaft cluster of its own (own BACKBONE_HOME,
// own ports, so the shared development broker on 19092 is never touched), replication factor 3,
// min.insync.replicas 2, transaction state log replicated (infra/kafka/broker.sh up --nodes 3).
// The cluster is stopped again by faults.global-teardown.ts.
import { register } from 'node:module';

export default async function globalSetup(): Promise<void> {
  register('../ts-esm-hooks.mjs', import.meta.url);
  const infra = await import('@backbone/infra');
  const { faultCluster } = await import('./fault.cluster.js');
  const log = (line: string): void => void process.stderr.write(`[faults] ${line}\n`);
  const cluster = faultCluster();
  // broker.sh reads its ports from the environment; the test workers inherit it too.
  Object.assign(process.env, cluster.env);
  const started = Date.now();
  const broker = await infra.ensureBroker({ home: cluster.home, nodes: 3, log: (l) => log(l) });
  await infra.bootstrapAccess(undefined, { home: cluster.home, log: (l) => log(l) });
  process.env.KAFKA_BROKERS = broker.brokers.join(',');
  process.env.KAFKA_CA_FILE = broker.caFile;
  process.env.KAFKA_SASL_MECHANISM = 'scram-sha-512';
  process.env.BACKBONE_KAFKA_PRINCIPALS = 'bootstrapped';
  log(`3-node cluster ${broker.brokers.join(',')} ready in ${Date.now() - started} ms (home ${cluster.home})`);
  const { ensureDatabase } = await import('@backbone/persistence');
  process.env.DATABASE_URL = (await ensureDatabase()).url;
}
