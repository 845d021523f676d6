// The fault tier's cluster is its own: stop every node when the tier ends (data kept for the next run).
import { register } from 'node:module';

export default async function globalTeardown(): Promise<void> {
  register('../ts-esm-hooks.mjs', import.meta.url);
  const infra = await import('@backbone/infra');
  const { faultCluster } = await import('./fault.cluster.js');
  const cluster = faultCluster();
  Object.assign(process.env, cluster.env);
  await infra.stopBroker({ home: cluster.home });
  process.stderr.write(`[faults] cluster in ${cluster.home} stopped\n`);
}
