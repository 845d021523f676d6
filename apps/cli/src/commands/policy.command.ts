// Policy commands: validate the policy documents, and explain what the gate decided for a
// past alert (the gate stores every decision per alert version in PostgreSQL).
import { join } from 'node:path';
import type { Command } from 'commander';
import { alertCodec, isUuid } from '@backbone/codec';
import { resolveDatabase } from '@backbone/persistence';
import { checkPolicyDir, compilePolicy, explain, formatIssue, loadPolicy, loadRegistry } from '@backbone/policy';
import { explainDecision, GateRepository } from '@backbone/gate-store';

export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('Sovereignty policy: validate documents, explain past decisions, issue hold reviewers');

  policy
    .command('check')
    .argument('[dir]', 'directory with registry.yaml and rules/', 'policies')
    .description('Validate the member registry and every policy document; exits 1 on any issue')
    .action((dir: string) => {
      const issues = checkPolicyDir(dir);
      if (issues.length > 0) {
        for (const issue of issues) process.stderr.write(`${formatIssue(issue)}\n`);
        process.stderr.write(`${issues.length} issue${issues.length === 1 ? '' : 's'} in ${dir}\n`);
        process.exitCode = 1;
        return;
      }
      const latest = loadPolicy(dir);
      const registry = loadRegistry(join(dir, 'registry.yaml'));
      process.stdout.write(
        `${dir}: OK (registry ${registry.version}, ${registry.agencies.length} agencies; newest policy ${latest.version}, ${latest.rules.length} rules)\n`,
      );
    });

  policy
    .command('explain')
    .argument('<alertId>', 'the alert (every version the gate decided)')
    .requiredOption('--agency <code>', 'the recipient agency, e.g. DE-NCB')
    .option('--policies <dir>', 'also trace every rule that fired, re-evaluated with the stored alert and policy version', undefined)
    .option('--json', 'print JSON instead of text', false)
    .description('What the policy gate decided for an alert and agency, under which rule and policy version')
    .action(async (alertId: string, opts: { agency: string; policies?: string; json: boolean }) => {
      if (!isUuid(alertId)) throw new Error(`${alertId} is not an alert id (a UUID)`);
      const database = await resolveDatabase();
      const repo = await GateRepository.open(database.url, { migrate: false, poolSize: 1 });
      try {
        const decisions = await repo.decisionsFor(alertId).catch((err: unknown) => {
          throw new Error(
            `cannot read the gate's decisions (${err instanceof Error ? err.message : String(err)}); has the gate run against ${database.detail}?`,
          );
        });
        if (decisions.length === 0) throw new Error(`the gate has decided nothing for alert ${alertId}`);
        const explanation = explainDecision(
          alertId,
          decisions,
          await repo.recipientsOf(alertId),
          opts.agency,
          (b) => alertCodec.decode(b).headline,
        );
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(explanation, null, 2)}\n`);
          return;
        }
        const lines = [`Alert ${alertId} from ${explanation.sender}: ${explanation.headline ?? '(alert unreadable)'}`];
        for (const v of explanation.versions) {
          const o = v.outcomes[0];
          if (!o) {
            lines.push(`  v${v.version} ${v.msgType}: ${opts.agency} is not in the registry of policy ${v.policyVersion}`);
            continue;
          }
          const how = o.recalled ? `delivered as a recall (policy said ${o.outcome} by ${o.ruleId})` : `${o.outcome} by ${o.ruleId}`;
          const extras = [
            o.redactedGroups.length > 0 ? `redacted ${o.redactedGroups.join(', ')}` : '',
            o.executionFlags.length > 0 ? `flags ${o.executionFlags.join(', ')}` : '',
          ].filter(Boolean);
          lines.push(
            `  v${v.version} ${v.msgType}: ${how}; policy ${v.policyVersion}, decided ${v.decidedAt}${extras.length > 0 ? `; ${extras.join('; ')}` : ''}`,
          );
          if (opts.policies)
            lines.push(
              ...trace(
                opts.policies,
                decisions.find((d) => d.version === v.version)!,
                opts.agency,
              ),
            );
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await repo.close();
      }
    });

  const reviewers = policy
    .command('reviewers')
    .description('Reviewers who may release held alerts (POST /holds/{alertId}/release on the gate)');
  reviewers
    .command('issue')
    .argument('<name>', 'the reviewer, e.g. j.doe@ncb.example')
    .description('Issue a reviewer bearer token; only its hash is stored, the token is printed once')
    .action(async (name: string) => {
      const database = await resolveDatabase();
      const repo = await GateRepository.open(database.url, { migrate: false, poolSize: 1 });
      try {
        const r = await repo.issueReviewer(name).catch((err: unknown) => {
          throw new Error(
            `cannot issue a reviewer token (${err instanceof Error ? err.message : String(err)}); has the gate run against ${database.detail}?`,
          );
        });
        process.stdout.write(`${r.token}\n`);
        process.stderr.write(`issued ${r.tokenId} to reviewer ${r.name}; store it now, it is not shown again\n`);
      } finally {
        await repo.close();
      }
    });
}

/** The engine's rule trail for a stored decision, under the policy version it was decided with. */
function trace(dir: string, d: { alert: Buffer; policyVersion: string; decidedAt: Date }, agency: string): string[] {
  try {
    const compiled = compilePolicy(loadRegistry(join(dir, 'registry.yaml')), loadPolicy(dir, d.policyVersion));
    return explain(alertCodec.decode(d.alert), agency, compiled, d.decidedAt)
      .text.split('\n')
      .map((l) => `      ${l}`);
  } catch (err) {
    return [`      (no rule trail: ${err instanceof Error ? err.message : String(err)})`];
  }
}
