/**
 * The `stowage` command line. Each subcommand lives in its own file and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { registerDevCommand } from './dev.js';
import { registerSnapshotCommand } from './snapshot.js';
import { registerCertsCommand } from './certs.js';
import { registerSimulateCommand } from './simulate.js';
import { registerWebhookCommand } from './webhook.js';
import { registerDeschedulerCommand } from './deschedule.js';
import { registerSchedulerCommand } from './scheduler.js';
import { registerTenantsCommand } from './tenants.js';
import { CliError } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('stowage')
    .description('Place and move Kubernetes pods onto cheaper capacity without lowering availability')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerSimulateCommand(program);
  registerSnapshotCommand(program);
  registerCertsCommand(program);
  registerWebhookCommand(program);
  registerDeschedulerCommand(program);
  registerSchedulerCommand(program);
  registerTenantsCommand(program);
  registerDevCommand(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stowage: ${message}\n`);
    if (process.env.STOWAGE_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

const isEntryPoint = process.argv[1] !== undefined && /(?:^|[/\\])(?:main\.[cm]?[jt]s|stowage(?:\.js)?)$/.test(process.argv[1]);
if (isEntryPoint) {
  const code = await main(process.argv.slice(2));
  // A command may set its own exit code (`deschedule --once`: 2 when a drain failed); success must not overwrite it.
  if (code !== 0 || process.exitCode === undefined) process.exitCode = code;
}
