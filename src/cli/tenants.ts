/**
 * `stowage tenants`: tenants on their own node groups. `nodegroups render` writes the node groups
 * for the autoscaler the user runs; `classes` prints the tenant classes in force.
 */
import { Option, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_PRICE_TABLE } from '../core/pricing.js';
import { DEFAULT_TENANT_CLASSES, DEFAULT_TENANT_CLASSES_YAML, parseTenantClasses, type TenantClasses } from '../tenants/classes.js';
import { renderAsgTags } from '../tenants/nodegroups/cluster-autoscaler-aws.js';
import { renderClusterAutoscalerKwok } from '../tenants/nodegroups/cluster-autoscaler-kwok.js';
import { kwokInstanceTypes, NODE_CLASSES, renderKarpenter, zonesOf, type NodeClassProvider } from '../tenants/nodegroups/karpenter.js';
import { loadFile } from './common.js';

/** The autoscalers `nodegroups render --for` knows. */
export const RENDER_TARGETS = ['karpenter', 'karpenter-instance-types', 'cluster-autoscaler-aws', 'cluster-autoscaler-kwok'] as const;
export type RenderTarget = (typeof RENDER_TARGETS)[number];

/** Reads `--classes FILE`; the built-in classes when absent. */
export function loadTenantClasses(path: string | undefined): TenantClasses {
  if (path === undefined) return DEFAULT_TENANT_CLASSES;
  return loadFile(path, 'tenant classes', parseTenantClasses);
}

/** Several objects as one multi-document YAML stream, or a JSON List. */
export function formatObjects(objects: readonly unknown[], format: 'json' | 'yaml'): string {
  if (format === 'json') return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
  return objects.map((o) => toYaml(o, { lineWidth: 0 })).join('---\n');
}

/** What `nodegroups render --for TARGET` prints. */
export function renderNodeGroups(classes: TenantClasses, target: RenderTarget, options: { clusterName: string; namespace: string; nodeClass: NodeClassProvider }, format: 'json' | 'yaml'): string {
  switch (target) {
    case 'karpenter':
      return formatObjects(renderKarpenter(classes, { provider: options.nodeClass, nodeClassName: 'default' }), format);
    case 'karpenter-instance-types':
      // The KWOK provider reads JSON only.
      return `${JSON.stringify(kwokInstanceTypes(DEFAULT_PRICE_TABLE, zonesOf(classes)), null, 2)}\n`;
    case 'cluster-autoscaler-aws': {
      const document = renderAsgTags(classes, options.clusterName);
      return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : toYaml(document, { lineWidth: 0 });
    }
    case 'cluster-autoscaler-kwok':
      return formatObjects(renderClusterAutoscalerKwok(classes, options.namespace), format);
  }
}

/** Adds `--classes FILE` to a subcommand. */
function _withClasses(command: Command): Command {
  return command.option('--classes <file>', 'a TenantClasses YAML (default: the built-in premium and standard classes)');
}

/** Adds `stowage tenants` to the program. */
export function registerTenantsCommand(program: Command): Command {
  const tenants = program.command('tenants').description('Tenants on their own node groups, scaled from zero by Karpenter or Cluster Autoscaler');

  _withClasses(tenants.command('classes').description('Print the tenant classes in force (the built-in ones, or --classes validated)'))
    .action((opts: { classes?: string }) => {
      if (opts.classes === undefined) {
        process.stdout.write(DEFAULT_TENANT_CLASSES_YAML);
        return;
      }
      const classes = loadTenantClasses(opts.classes);
      process.stdout.write(`${classes.classes.length} class(es) and ${classes.nodeGroups.length} node group(s) in "${opts.classes}" are valid\n`);
    });

  const nodegroups = tenants.command('nodegroups').description('Node groups generated from the tenant classes');
  _withClasses(nodegroups.command('render').description('Print the node groups for an autoscaler: Karpenter NodePools, ASG tags for Cluster Autoscaler on AWS, or its kwok provider\'s ConfigMaps'))
    .addOption(new Option('--for <autoscaler>', 'the autoscaler to render for').choices([...RENDER_TARGETS]).makeOptionMandatory())
    .option('--cluster-name <name>', 'cluster name in the auto-discovery tag k8s.io/cluster-autoscaler/<name>', 'stowage-dev')
    .option('-n, --namespace <namespace>', 'namespace of the kwok provider\'s ConfigMaps (Cluster Autoscaler\'s POD_NAMESPACE)', 'kube-system')
    .addOption(new Option('--node-class <provider>', 'Karpenter provider whose node class the NodePools reference').choices(Object.keys(NODE_CLASSES)).default('kwok'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .action((opts: { classes?: string; for: RenderTarget; clusterName: string; namespace: string; nodeClass: NodeClassProvider; output: 'json' | 'yaml' }) => {
      const classes = loadTenantClasses(opts.classes);
      process.stdout.write(renderNodeGroups(classes, opts.for, opts, opts.output));
    });
  return tenants;
}
