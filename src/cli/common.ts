/**
 * Flags shared by the commands that talk to a cluster, spelled as kubectl spells them.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { CliError } from './errors.js';
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

/**
 * Reads a file named by a flag and parses it, turning every failure into one line for the user:
 * `Cannot read price table "p.yaml": ENOENT`, or the parser's own message, which names the file
 * as `what "path"` and the field.
 */
export function loadFile<T>(path: string, what: string, parse: (text: string, source: string) => T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${what} "${path}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]}`);
  }
  try {
    return parse(text, `${what} "${path}"`);
  } catch (error) {
    throw new CliError((error as Error).message.split('\n')[0] ?? '');
  }
}
