import { Command } from 'commander';
import { registerInfraCommands } from './commands/infra.command.js';

/** `backbone`: one command for operators, liaison offices, desks and compliance staff. */
export function buildProgram(): Command {
  const program = new Command('backbone').description('Backbone: inter-agency alert sharing over Kafka').showHelpAfterError();
  registerInfraCommands(program);
  return program;
}

await buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`backbone: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
