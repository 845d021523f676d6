import type { Command } from 'commander';
import { bootstrapAccess, brokerStatus, ensureBroker, eventPublicKeysFile, rotateCredential, stopBroker } from '@backbone/infra';
import { ensureDatabase, redactDatabaseUrl } from '@backbone/persistence';

/** `backbone infra up|down|status|rotate`: the local broker, its principals and the database. */
export function registerInfraCommands(program: Command): void {
  const infra = program.command('infra').description('the local stack: Kafka broker (KRaft, SASL_SSL, ACLs) and PostgreSQL');
  const log = (line: string): void => void process.stderr.write(`${line}\n`);

  infra
    .command('up')
    .description('start the broker (idempotent), create principals, topics and ACLs from policies/registry.yaml, find PostgreSQL')
    .option('--nodes <n>', '1, or 3 for a loopback cluster (RF 3, min.insync.replicas 2); default: keep the existing size, else 1')
    .action(async (opts: { nodes?: string }) => {
      // Without the flag an existing cluster keeps its size: passing 1 would rebuild a 3-node cluster.
      const nodes = opts.nodes === undefined ? undefined : opts.nodes === '3' ? 3 : opts.nodes === '1' ? 1 : null;
      if (nodes === null) throw new Error(`--nodes must be 1 or 3, not ${opts.nodes}`);
      const broker = await ensureBroker({ ...(nodes ? { nodes } : {}), log });
      const access = await bootstrapAccess(undefined, { log });
      const db = await ensureDatabase();
      console.log(`kafka     ${broker.brokers.join(',')} (${broker.nodes} node${broker.nodes > 1 ? 's' : ''}, SASL_SSL)`);
      console.log(`ca        ${broker.caFile}`);
      console.log(`secrets   ${broker.credentialsFile}`);
      console.log(`events    ${eventPublicKeysFile()} (public event keys; +${access.eventKeysCreated.length} new)`);
      console.log(
        access.skipped
          ? 'access    unchanged'
          : `access    ${access.agencies.length} agencies; +${access.principalsCreated.length}/-${access.principalsDeleted.length} principals, +${access.topicsCreated.length} topics, +${access.aclsCreated}/-${access.aclsDeleted} ACLs`,
      );
      console.log(`postgres  ${redactDatabaseUrl(db.url)} (${db.source})`);
    });

  infra
    .command('down')
    .description('stop the local broker (data is kept)')
    .action(async () => {
      await stopBroker({ log });
      console.log('kafka     stopped');
    });

  infra
    .command('status')
    .description('is the broker up, on which addresses')
    .action(async () => {
      const s = await brokerStatus({ log });
      for (const m of s.members) console.log(`node ${m.node}  ${m.state.padEnd(8)} ${m.address}  pid ${m.pid ?? '-'}`);
      console.log(s.up ? 'kafka     up' : 'kafka     down');
      if (!s.up) process.exitCode = 3;
    });

  infra
    .command('rotate <principal>')
    .description("replace a principal's SCRAM password and event signing key (the new ones go only to its files; old public keys are kept)")
    .action(async (principal: string) => {
      await rotateCredential(principal, { log });
      console.log(`rotated   ${principal}`);
    });
}
