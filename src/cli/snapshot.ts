/**
 * `stowage snapshot`: what the cluster costs now and how full it is, by capacity type. Its YAML
 * output is the snapshot document `stowage simulate --from` reads.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import { DEFAULT_PRICE_TABLE, mergePriceTables, parsePriceTable, type PriceTable } from '../core/pricing.js';
import { toSnapshotDocument } from '../core/snapshot-document.js';
import { loadKubeConfig } from '../kube/client.js';
import { readClusterSnapshot } from '../kube/read-snapshot.js';
import { renderClusterSummary } from '../report/cluster-summary.js';
import { addConnectionFlags, addOutputFlag, printDocument, type ConnectionOptions } from './common.js';
import { CliError } from './errors.js';
import type { OutputFormat } from './flags.js';

interface SnapshotOptions extends ConnectionOptions {
  readonly namespace?: string;
  readonly output: OutputFormat;
  readonly prices?: string;
}

/** Loads `--prices FILE` over the defaults. */
export function loadPriceTable(path: string | undefined): PriceTable {
  if (path === undefined) return DEFAULT_PRICE_TABLE;
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError(`Cannot read price table "${path}": ${(error as Error).message.split('\n')[0]}`);
  }
  try {
    return mergePriceTables(DEFAULT_PRICE_TABLE, parsePriceTable(raw));
  } catch (error) {
    throw new CliError(`Invalid price table "${path}": ${(error as Error).message}`);
  }
}

export function registerSnapshotCommand(program: Command): void {
  const command = program
    .command('snapshot')
    .description('Show nodes by capacity type with allocatable, requested, utilisation and $/h; -o yaml writes a snapshot for `simulate --from`')
    .option('-n, --namespace <namespace>', 'only pods, workloads and PDBs of this namespace')
    .option('--prices <file>', 'a PriceTable YAML overriding the default prices');
  addConnectionFlags(command);
  addOutputFlag(command);
  command.action(async (opts: SnapshotOptions) => {
    const prices = loadPriceTable(opts.prices);
    const kc = loadKubeConfig(opts);
    const snapshot = await readClusterSnapshot(kc, {
      capacityRules: DEFAULT_CAPACITY_TYPE_RULES,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    });
    const document = toSnapshotDocument(snapshot, { context: kc.getCurrentContext(), prices });
    if (opts.output === 'table') process.stdout.write(renderClusterSummary(document.status.summary));
    else printDocument(document, opts.output);
  });
}
