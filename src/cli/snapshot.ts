/**
 * `stowage snapshot`: what the cluster costs now and how full it is, by capacity type. Its YAML
 * output is the snapshot document `stowage simulate --from` reads.
 */
import type { Command } from 'commander';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import { DEFAULT_PRICE_TABLE, mergePriceTables, parsePriceTable, type PriceTable } from '../core/pricing.js';
import { toSnapshotDocument } from '../core/snapshot-document.js';
import { parseYamlDocument } from '../config/yaml.js';
import { loadKubeConfig } from '../kube/client.js';
import { readClusterSnapshot } from '../kube/read-snapshot.js';
import { renderClusterSummary } from '../report/cluster-summary.js';
import { addConnectionFlags, addOutputFlag, loadFile, printDocument, type ConnectionOptions } from './common.js';
import type { OutputFormat } from './flags.js';

interface SnapshotOptions extends ConnectionOptions {
  readonly namespace?: string;
  readonly output: OutputFormat;
  readonly prices?: string;
}

/** Loads `--prices FILE` over the defaults. */
export function loadPriceTable(path: string | undefined): PriceTable {
  if (path === undefined) return DEFAULT_PRICE_TABLE;
  return loadFile(path, 'price table', (text, source) => {
    const document = parseYamlDocument(text, source);
    try {
      return mergePriceTables(DEFAULT_PRICE_TABLE, parsePriceTable(document));
    } catch (error) {
      throw new Error(`Invalid ${source}: ${(error as Error).message}`);
    }
  });
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
