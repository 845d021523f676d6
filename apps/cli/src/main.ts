import { Command } from 'commander';
import { registerAuditCommands, registerWhatIfCommand } from './commands/audit.command.js';
import { registerFeedCommands } from './commands/feed.command.js';
import { registerInfraCommands } from './commands/infra.command.js';
import { registerParkedCommands } from './commands/parked.command.js';
import { registerPolicyCommands } from './commands/policy.command.js';
import { registerPublisherCommands } from './commands/publish.command.js';

/** `backbone`: one command for operators, liaison offices, desks and compliance staff. */
export function buildProgram(): Command {
  const program = new Command('backbone').description('Backbone: inter-agency alert sharing over Kafka').showHelpAfterError();
  registerInfraCommands(program);
  registerPublisherCommands(program);
  registerFeedCommands(program);
  registerPolicyCommands(program);
  const policy = program.commands.find((c) => c.name() === 'policy');
  if (!policy) throw new Error('the policy command must be registered before what-if');
  registerWhatIfCommand(policy);
  registerAuditCommands(program);
  registerParkedCommands(program);
  return program;
}

await buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`backbone: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
