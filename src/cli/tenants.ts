/**
 * `stowage tenants`: tenants on their own node groups. `create`, `apply`, `list`, `get`,
 * `delete` manage tenants (a namespace with a bundle rendered from its class, applied with
 * server-side apply); `doctor` says why a tenant pod is Pending; `nodegroups render` writes the
 * node groups for the autoscaler the user runs; `classes` prints the tenant classes in force.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Option, type Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../core/capacity.js';
import { DEFAULT_PRICE_TABLE } from '../core/pricing.js';
import type { PodView } from '../core/model.js';
import { parseYamlDocument } from '../config/yaml.js';
import { loadKubeConfig } from '../kube/client.js';
import type { AppliedObject } from '../kube/apply.js';
import { listAll, readClusterSnapshot } from '../kube/read-snapshot.js';
import { applyBundle, deleteTenant, listTenants, podEvents, tenantExists } from '../kube/tenants.js';
import { renderTextTable } from '../report/text-table.js';
import { DEFAULT_TENANT_CLASSES, DEFAULT_TENANT_CLASSES_YAML, parseTenantClasses, resolveClass, type TenantClasses } from '../tenants/classes.js';
import { renderBundle, TENANT_LABEL, type KubeObject, type TenantRequest } from '../tenants/bundle.js';
import { diagnosePod, formatFinding, type DoctorFinding, type GroupTemplateView } from '../tenants/doctor.js';
import { parseAsgTagsDocument } from '../tenants/nodegroups/cluster-autoscaler-aws.js';
import type { TenantStatus } from '../tenants/status.js';
import { parseTenantFile } from '../tenants/tenant-file.js';
import { addConnectionFlags, addOutputFlag, printDocument, type ConnectionOptions } from './common.js';
import { CliError } from './errors.js';
import { parseDuration, type OutputFormat } from './flags.js';
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


/** `--set key=value`, repeatable, into the tenant's parameters. */
function _collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new CliError(`Invalid --set "${value}": use KEY=VALUE`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Renders every tenant's bundle before anything is written, so a bad tenant loses nothing. */
export function renderTenants(classes: TenantClasses, requests: readonly TenantRequest[]): { readonly tenant: TenantRequest; readonly objects: KubeObject[] }[] {
  return requests.map((tenant) => {
    const { tenantClass, group } = resolveClass(classes, tenant.class);
    return { tenant, objects: renderBundle(tenant, tenantClass, group) };
  });
}

const _RESOURCE = { Namespace: 'namespace', Secret: 'secret', ConfigMap: 'configmap', Service: 'service', Deployment: 'deployment.apps' } as const;

function _appliedLine(result: AppliedObject): string {
  const resource = (_RESOURCE as Readonly<Record<string, string>>)[result.kind] ?? result.kind.toLowerCase();
  return `${resource}/${result.name}${result.namespace ? ` -n ${result.namespace}` : ''} ${result.outcome}\n`;
}

/** Applies every tenant's bundle (tenants in parallel, each bundle in order) and prints what changed. */
async function _applyTenants(kc: KubeConfig, classes: TenantClasses, requests: readonly TenantRequest[], output: OutputFormat): Promise<void> {
  const rendered = renderTenants(classes, requests);
  const results = await Promise.all(rendered.map(async ({ tenant, objects }) => ({ tenant: tenant.name, applied: await applyBundle(kc, objects) })));
  if (output === 'table') for (const { applied } of results) for (const result of applied) process.stdout.write(_appliedLine(result));
  else printDocument(results, output);
}

function _elapsed(startedAt: number): string {
  return `[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s]`;
}

/**
 * Waits until every named tenant is Ready, printing each phase change and each new Event on
 * their pods (the scheduler's FailedScheduling, the autoscaler's Nominated and the like) to stderr.
 */
export async function waitForTenants(kc: KubeConfig, names: readonly string[], timeoutMs: number, write: (line: string) => void = (l) => process.stderr.write(l)): Promise<TenantStatus[]> {
  const startedAt = Date.now();
  const phases = new Map<string, string>();
  const seenEvents = new Set<string>();
  for (;;) {
    const statuses = (await listTenants(kc)).filter((t) => names.includes(t.name));
    for (const status of statuses) {
      const shown = `${status.phase}${status.nodes.length > 0 ? ` on ${status.nodes.join(', ')}` : ''}`;
      if (phases.get(status.name) !== shown) write(`${_elapsed(startedAt)} ${status.name}: ${shown}\n`);
      phases.set(status.name, shown);
    }
    for (const name of names) {
      for (const event of await podEvents(kc, name)) {
        const key = `${event.uid}/${event.count}`;
        if (seenEvents.has(key)) continue;
        seenEvents.add(key);
        write(`${_elapsed(startedAt)} ${name}: ${event.source || 'unknown'} ${event.reason}: ${event.message}\n`);
      }
    }
    if (statuses.length === names.length && statuses.every((t) => t.phase === 'Ready')) return statuses;
    if (Date.now() - startedAt > timeoutMs) {
      const waiting = names.filter((n) => statuses.find((t) => t.name === n)?.phase !== 'Ready');
      throw new CliError(`Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${waiting.map((n) => `"${n}"`).join(', ')} to be Ready: run \`stowage tenants doctor ${waiting[0] ?? ''}\``);
    }
    await sleep(1_000);
  }
}

function _statusRows(statuses: readonly TenantStatus[]): string {
  return renderTextTable(
    [{ header: 'name' }, { header: 'class' }, { header: 'phase' }, { header: 'ready', align: 'right' }, { header: 'node' }],
    statuses.map((t) => [t.name, t.class, t.phase, `${t.readyPods}/${t.replicas ?? t.pods}`, t.nodes.join(',') || '<none>']),
  );
}

/** Reads `--node-groups FILE` (an AutoScalingGroupTags document) into what the autoscaler sees of each group. */
function _loadViews(path: string | undefined): ReadonlyMap<string, GroupTemplateView> | undefined {
  if (path === undefined) return undefined;
  return loadFile(path, 'node-group definitions', (text, source) => parseAsgTagsDocument(parseYamlDocument(text, source), source));
}

interface DoctorReport {
  readonly pod: string;
  readonly findings: readonly DoctorFinding[];
}

/** Diagnoses the Pending pods asked for: a tenant's, one pod, or every Pending pod outside kube-system. */
async function _doctor(kc: KubeConfig, classes: TenantClasses, target: { tenant?: string; pod?: string }, views: ReadonlyMap<string, GroupTemplateView> | undefined): Promise<DoctorReport[]> {
  const snapshot = await readClusterSnapshot(kc, { capacityRules: DEFAULT_CAPACITY_TYPE_RULES });
  const core = kc.makeApiClient(CoreV1Api);
  const namespaces = await listAll('namespaces', (c) => core.listNamespace({ _continue: c, limit: 500 }));
  const namespaceLabels = Object.fromEntries(namespaces.map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
  const pending = (p: PodView) => p.nodeName === '' && p.phase === 'Pending' && p.deletionRequestedAt === undefined;
  let pods: PodView[];
  if (target.pod !== undefined) {
    const [namespace, name] = target.pod.includes('/') ? target.pod.split('/', 2) : ['default', target.pod];
    const pod = snapshot.pods.find((p) => p.namespace === namespace && p.name === name);
    if (pod === undefined) throw new CliError(`Cannot find pod "${namespace}/${name}"`);
    pods = [pod];
  } else if (target.tenant !== undefined) {
    if (!(await tenantExists(kc, target.tenant))) throw new CliError(`Tenant "${target.tenant}" does not exist`, 3);
    pods = snapshot.pods.filter((p) => p.labels[TENANT_LABEL] === target.tenant && pending(p));
  } else {
    pods = snapshot.pods.filter((p) => p.namespace !== 'kube-system' && pending(p));
  }
  return pods.map((pod) => ({
    pod: `${pod.namespace}/${pod.name}`,
    findings: pending(pod)
      ? diagnosePod({ pod, snapshot, groups: classes.nodeGroups, namespaceLabels, ...(views ? { autoscalerViews: views } : {}) })
      : [],
  }));
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


  addOutputFlag(addConnectionFlags(_withClasses(tenants.command('create').description('Create a tenant: a namespace with its class\'s bundle, applied with server-side apply'))))
    .requiredOption('--class <class>', 'the tenant class (premium, standard, or one of --classes)')
    .requiredOption('--name <name>', 'the tenant name (also its namespace)')
    .option('--set <key=value>', 'a parameter of the bundle template (repeatable)', _collectParam, {})
    .option('--wait', 'wait until the tenant is Ready, printing the scheduler\'s and the autoscaler\'s reasons meanwhile', false)
    .option('--timeout <duration>', 'how long --wait waits', '5m')
    .action(async (opts: ConnectionOptions & { classes?: string; class: string; name: string; set: Record<string, string>; wait: boolean; timeout: string; output: OutputFormat }) => {
      const classes = loadTenantClasses(opts.classes);
      const timeoutMs = parseDuration(opts.timeout, '--timeout');
      const kc = loadKubeConfig(opts);
      await _applyTenants(kc, classes, [{ name: opts.name, class: opts.class, params: opts.set }], opts.output);
      if (opts.wait) await waitForTenants(kc, [opts.name], timeoutMs);
    });

  addOutputFlag(addConnectionFlags(_withClasses(tenants.command('apply').description('Create or update the tenants of a file (kind: Tenant documents); re-applying changes nothing'))))
    .requiredOption('-f, --filename <file>', 'the tenants file')
    .option('--wait', 'wait until every tenant is Ready', false)
    .option('--timeout <duration>', 'how long --wait waits', '5m')
    .action(async (opts: ConnectionOptions & { classes?: string; filename: string; wait: boolean; timeout: string; output: OutputFormat }) => {
      const classes = loadTenantClasses(opts.classes);
      const requests = loadFile(opts.filename, 'tenants file', parseTenantFile);
      const timeoutMs = parseDuration(opts.timeout, '--timeout');
      const kc = loadKubeConfig(opts);
      await _applyTenants(kc, classes, requests, opts.output);
      if (opts.wait) await waitForTenants(kc, requests.map((r) => r.name), timeoutMs);
    });

  addOutputFlag(addConnectionFlags(tenants.command('list').description('List tenants with their class, phase (Pending, Scheduled, Ready) and node')))
    .action(async (opts: ConnectionOptions & { output: OutputFormat }) => {
      const statuses = await listTenants(loadKubeConfig(opts));
      if (opts.output !== 'table') printDocument(statuses, opts.output);
      else process.stdout.write(statuses.length === 0 ? 'No tenants\n' : _statusRows(statuses));
    });

  addOutputFlag(addConnectionFlags(tenants.command('get').argument('<name>', 'the tenant').description('Show one tenant: phase, node, and the Events on its pods')))
    .action(async (name: string, opts: ConnectionOptions & { output: OutputFormat }) => {
      const kc = loadKubeConfig(opts);
      const [status] = await listTenants(kc, name);
      if (status === undefined) throw new CliError(`Tenant "${name}" does not exist`, 3);
      const events = await podEvents(kc, name);
      if (opts.output !== 'table') {
        printDocument({ ...status, events }, opts.output);
        return;
      }
      process.stdout.write(_statusRows([status]));
      if (events.length > 0) process.stdout.write(`\nEvents:\n${events.map((e) => `  ${e.pod}  ${e.source} ${e.reason}: ${e.message}`).join('\n')}\n`);
    });

  addConnectionFlags(tenants.command('delete').argument('<names...>', 'the tenants').description('Delete tenants with everything in their namespace'))
    .option('--wait', 'wait until their namespaces are gone', false)
    .option('--timeout <duration>', 'how long --wait waits', '5m')
    .action(async (names: string[], opts: ConnectionOptions & { wait: boolean; timeout: string }) => {
      const timeoutMs = parseDuration(opts.timeout, '--timeout');
      const kc = loadKubeConfig(opts);
      for (const name of names) {
        const deleted = await deleteTenant(kc, name);
        process.stdout.write(deleted ? `tenant/${name} deleted\n` : `tenant/${name} not found\n`);
      }
      if (!opts.wait) return;
      const deadline = Date.now() + timeoutMs;
      while ((await listTenants(kc)).some((t) => names.includes(t.name))) {
        if (Date.now() > deadline) throw new CliError(`Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${names.map((n) => `"${n}"`).join(', ')} to be gone`);
        await sleep(500);
      }
    });

  addOutputFlag(addConnectionFlags(_withClasses(tenants.command('doctor').argument('[tenant]', 'the tenant (default: every Pending pod outside kube-system)').description('Say why tenant pods are Pending, one line per cause with its fix'))))
    .option('--pod <namespace/name>', 'diagnose this pod (a tenant\'s or not)')
    .option('--node-groups <file>', 'what the autoscaler sees of each group: an AutoScalingGroupTags document (`nodegroups render --for cluster-autoscaler-aws`, or the real ASG tags)')
    .action(async (tenant: string | undefined, opts: ConnectionOptions & { classes?: string; pod?: string; nodeGroups?: string; output: OutputFormat }) => {
      const classes = loadTenantClasses(opts.classes);
      const views = _loadViews(opts.nodeGroups);
      const reports = await _doctor(loadKubeConfig(opts), classes, { ...(tenant !== undefined ? { tenant } : {}), ...(opts.pod !== undefined ? { pod: opts.pod } : {}) }, views);
      if (opts.output !== 'table') {
        printDocument(reports, opts.output);
        return;
      }
      if (reports.length === 0) process.stdout.write(tenant === undefined ? 'No Pending pods\n' : `Tenant "${tenant}" has no Pending pod\n`);
      for (const report of reports) {
        process.stdout.write(`pod ${report.pod}:\n`);
        if (report.findings.length === 0) process.stdout.write('  not Pending\n');
        for (const finding of report.findings) process.stdout.write(`  ${formatFinding(finding)}\n`);
      }
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
