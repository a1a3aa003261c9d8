/**
 * Flags shared by the commands that talk to a cluster, spelled as kubectl spells them.
 */
import { Option, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { OUTPUT_FORMATS, type OutputFormat } from './flags.js';

export interface ConnectionOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
}

export function addConnectionFlags(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'the kubeconfig context to use');
}

export function addOutputFlag(command: Command, defaultFormat: OutputFormat = 'table', formats: readonly OutputFormat[] = OUTPUT_FORMATS): Command {
  return command.addOption(new Option('-o, --output <format>', 'output format').choices([...formats]).default(defaultFormat));
}

/** Prints a document as JSON or YAML, the way kubectl -o does. */
export function printDocument(document: unknown, format: 'json' | 'yaml'): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : toYaml(document, { lineWidth: 0 }));
}
