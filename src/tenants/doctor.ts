/**
 * `stowage tenants doctor`: why a tenant pod is Pending, one finding per cause, each with its
 * fix. Pure: a snapshot of the cluster, the node groups, and (optionally) what the autoscaler
 * sees of each group at zero nodes, in; findings out.
 *
 * Each group is tried as the autoscaler tries it: a template node with the group's labels,
 * taints and the instance type's size, run through the scheduler's own filters (`src/policy/fit`)
 * one at a time, so every cause is named rather than only the first: the selector
 * (NodeAffinity), the taints (TaintToleration), the size (NodeResourcesFit), the one-per-node rule
 * (InterPodAffinity) on the group's nodes and on a new one, then the group's max size and, at
 * zero nodes, whether the autoscaler's own template (from the ASG's tags) matches the pod.
 */
import { matchesLabels, taintsNotTolerated } from '../core/labels.js';
import type { Labels } from '../core/labels.js';
import type { ClusterSnapshot, NodeView, PodView, Resources, Taint } from '../core/model.js';
import { ALL_FILTERS, checkFit, FitState } from '../policy/fit/index.js';
import type { FilterPluginName } from '../policy/fit/index.js';
import { formatTaint, groupNodeLabels, type NodeGroupSpec } from './classes.js';
import { instanceShape } from './instance-types.js';

/** The causes the doctor names. */
export const DoctorCode = {
  NoGroupMatchesSelector: 'NoGroupMatchesSelector',
  TaintNotTolerated: 'TaintNotTolerated',
  RequestsExceedInstance: 'RequestsExceedInstance',
  GroupAtMax: 'GroupAtMax',
  AntiAffinityLeavesNoNode: 'AntiAffinityLeavesNoNode',
  AutoscalerCannotSeeGroup: 'AutoscalerCannotSeeGroup',
  MalformedTaintTag: 'MalformedTaintTag',
  NotDiscoverable: 'NotDiscoverable',
  HostnameLabelMissing: 'HostnameLabelMissing',
  NodeFitsNow: 'NodeFitsNow',
  ScaleUpExpected: 'ScaleUpExpected',
} as const;
export type DoctorCode = (typeof DoctorCode)[keyof typeof DoctorCode];

/** Codes that explain nothing is wrong (the pod is only waiting). */
export const WAITING_CODES: readonly DoctorCode[] = [DoctorCode.NodeFitsNow, DoctorCode.ScaleUpExpected];

/** One cause, with its fix. */
export interface DoctorFinding {
  readonly code: DoctorCode;
  readonly group?: string;
  readonly message: string;
  readonly fix: string;
}

/** What an autoscaler sees of a group with no node: the template it builds from the group's definition. */
export interface GroupTemplateView {
  /** Where the view comes from, for messages: `ASG tags`. */
  readonly source: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly problems: readonly { readonly code: 'MalformedTaintTag' | 'NotDiscoverable'; readonly message: string; readonly fix: string }[];
  /** How to add a missing label or taint, e.g. `tag the ASG with k8s.io/.../label/size=large`. */
  readonly fixLabel: (key: string, value: string) => string;
  readonly fixTaint: (taint: Taint) => string;
}

export interface DoctorInput {
  /** The Pending pod. */
  readonly pod: PodView;
  /** The cluster's nodes and placed pods. */
  readonly snapshot: ClusterSnapshot;
  readonly groups: readonly NodeGroupSpec[];
  /**
   * What the autoscaler sees of each group at zero nodes, by group name. A group without a view
   * is seen as configured (Karpenter reads its NodePool's template directly).
   */
  readonly autoscalerViews?: ReadonlyMap<string, GroupTemplateView>;
  /** Namespace labels, for anti-affinity terms with a namespace selector. */
  readonly namespaceLabels?: Readonly<Record<string, Labels>>;
}

const _TEMPLATE_PREFIX = 'stowage-doctor-template-';
const _VIEW_PREFIX = 'stowage-doctor-view-';
const GIB = 1024 ** 3;

/** Whether a node is one of the group's: it carries every label the group's nodes carry. */
export function nodeInGroup(node: Pick<NodeView, 'labels'>, group: NodeGroupSpec): boolean {
  return matchesLabels(group.labels, node.labels);
}

/** A node as the autoscaler imagines the group's next one: the largest instance type, the first zone. */
export function groupTemplateNode(group: NodeGroupSpec, name: string, labels: Labels = groupNodeLabels(group), taints: readonly Taint[] = group.taints): NodeView {
  const [largest] = [...group.instanceTypes].sort((a, b) => (instanceShape(b)?.vcpus ?? 0) - (instanceShape(a)?.vcpus ?? 0));
  const shape = instanceShape(largest ?? '');
  const allocatable: Resources = shape === undefined ? {} : { cpu: shape.vcpus * 1000, memory: shape.memoryGiB * GIB, pods: shape.pods };
  const zone = group.zones[0] ?? '';
  return {
    name,
    labels: {
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'node.kubernetes.io/instance-type': largest ?? '',
      'topology.kubernetes.io/zone': zone,
      ...labels,
      'kubernetes.io/hostname': name,
    },
    annotations: {},
    taints,
    allocatable,
    capacity: allocatable,
    unschedulable: false,
    ready: true,
    capacityType: group.capacityTypes[0] ?? 'on-demand',
    instanceType: largest ?? '',
    zone,
    createdAt: 0,
  };
}

function _selector(pod: PodView): string {
  const entries = Object.entries(pod.constraints.nodeSelector ?? {});
  const terms = (pod.constraints.nodeAffinity?.required ?? []).length;
  const text = entries.length === 0 ? 'no nodeSelector' : `nodeSelector {${entries.map(([k, v]) => `${k}=${v}`).join(', ')}}`;
  return terms > 0 ? `${text} and required node affinity` : text;
}

function _labels(labels: Labels): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');
}

function _toleration(taint: Taint): string {
  return taint.value === undefined
    ? `{key: ${taint.key}, operator: Exists, effect: ${taint.effect}}`
    : `{key: ${taint.key}, operator: Equal, value: ${taint.value}, effect: ${taint.effect}}`;
}

/**
 * The causes keeping `input.pod` Pending, one per line-worthy problem, each with a fix; when
 * nothing blocks it, a single waiting finding (a node fits now, or the autoscaler should add one).
 */
export function diagnosePod(input: DoctorInput): DoctorFinding[] {
  const { pod, groups } = input;
  const views = input.autoscalerViews ?? new Map<string, GroupTemplateView>();
  const templates = groups.map((g) => groupTemplateNode(g, `${_TEMPLATE_PREFIX}${g.name}`));
  const viewTemplates = groups.flatMap((g) => {
    const view = views.get(g.name);
    return view === undefined ? [] : [groupTemplateNode(g, `${_VIEW_PREFIX}${g.name}`, view.labels, view.taints)];
  });
  const realNodes = input.snapshot.nodes;
  const state = FitState.fromSnapshot(
    { ...input.snapshot, nodes: [...realNodes, ...templates, ...viewTemplates] },
    input.namespaceLabels ? { namespaceLabels: input.namespaceLabels } : {},
  );
  const fits = (nodeName: string, filters: readonly FilterPluginName[]) => checkFit(state, pod, nodeName, filters);
  const findings: DoctorFinding[] = [];

  const matching = groups.filter((g) => fits(`${_TEMPLATE_PREFIX}${g.name}`, ['NodeAffinity']).ok);
  if (matching.length === 0) {
    const offered = groups.map((g) => `"${g.name}" {${_labels(g.labels)}}`).join(', ');
    findings.push({
      code: DoctorCode.NoGroupMatchesSelector,
      message: `the pod's ${_selector(pod)} matches no node group (groups: ${offered})`,
      fix: groups[0] === undefined
        ? 'define a node group in the tenant classes'
        : `select one group's labels in the pod (e.g. nodeSelector {${_labels(groups[0].labels)}}), or give a group the labels the pod selects`,
    });
  }

  for (const group of matching) {
    const template = `${_TEMPLATE_PREFIX}${group.name}`;
    const untolerated = taintsNotTolerated(pod.constraints.tolerations ?? [], group.taints);
    if (untolerated.length > 0) {
      findings.push({
        code: DoctorCode.TaintNotTolerated,
        group: group.name,
        message: `the pod does not tolerate taint ${untolerated.map(formatTaint).join(', ')} of node group "${group.name}"`,
        fix: `add the toleration ${untolerated.map(_toleration).join(' and ')} to the pod (stowage tenants create adds it)`,
      });
      continue;
    }
    const size = fits(template, ['NodeResourcesFit']);
    if (!size.ok) {
      findings.push({
        code: DoctorCode.RequestsExceedInstance,
        group: group.name,
        message: `the pod's requests do not fit a new ${group.instanceTypes.join('/')} node of group "${group.name}" (${size.reason})`,
        fix: `lower the class's requests or give group "${group.name}" a larger instance type`,
      });
      continue;
    }
    const before = findings.length;
    const members = realNodes.filter((n) => nodeInGroup(n, group));
    const noHostname = members.filter((n) => n.labels['kubernetes.io/hostname'] === undefined);
    if (noHostname.length > 0) {
      findings.push({
        code: DoctorCode.HostnameLabelMissing,
        group: group.name,
        message: `${noHostname.length} node(s) of group "${group.name}" have no kubernetes.io/hostname label (${noHostname.map((n) => n.name).slice(0, 3).join(', ')}): one-pod-per-node anti-affinity cannot keep pods apart there`,
        fix: 'label each node with kubernetes.io/hostname=<node name> before it becomes schedulable (the dev cluster\'s KWOK node stage does)',
      });
    }
    const feasible = members.filter((n) => fits(n.name, ALL_FILTERS).ok);
    if (feasible.length > 0) {
      findings.push({
        code: DoctorCode.NodeFitsNow,
        group: group.name,
        message: `node ${feasible[0]?.name ?? ''} of group "${group.name}" takes the pod now: the scheduler should bind it shortly`,
        fix: 'none needed; if it stays Pending, check the scheduler\'s events on the pod',
      });
      continue;
    }
    const antiRejected = members.filter((n) => !fits(n.name, ['InterPodAffinity']).ok);
    const newNodeRefused = !fits(template, ['InterPodAffinity']).ok;
    const atMax = members.length >= group.maxSize;
    if (newNodeRefused) {
      findings.push({
        code: DoctorCode.AntiAffinityLeavesNoNode,
        group: group.name,
        message: `the pod's (or placed pods') required anti-affinity refuses even a new node of group "${group.name}"`,
        fix: 'relax the anti-affinity term (its topology key or selector), or give the group zones where no matching pod runs',
      });
    } else if (atMax) {
      findings.push({
        code: DoctorCode.GroupAtMax,
        group: group.name,
        message: `node group "${group.name}" is at its max size ${group.maxSize} (${members.length} node(s)): no new node can be added`,
        fix: `raise maxSize of node group "${group.name}" in the tenant classes (and re-render its node groups), or delete a tenant on it`,
      });
      if (members.length > 0 && antiRejected.length === members.length) {
        findings.push({
          code: DoctorCode.AntiAffinityLeavesNoNode,
          group: group.name,
          message: `one-pod-per-node anti-affinity leaves no node: each of the ${members.length} node(s) of group "${group.name}" already runs a tenant pod`,
          fix: `raise maxSize of node group "${group.name}" so a new node can be added, or delete a tenant on it`,
        });
      }
    }
    const view = views.get(group.name);
    if (members.length === 0 && view !== undefined) {
      for (const problem of view.problems) findings.push({ code: problem.code, group: group.name, message: problem.message, fix: problem.fix });
      if (!fits(`${_VIEW_PREFIX}${group.name}`, ['NodeAffinity']).ok) {
        const shown = Object.entries(group.labels).filter(([k, v]) => view.labels[k] !== v);
        findings.push({
          code: DoctorCode.AutoscalerCannotSeeGroup,
          group: group.name,
          message: `node group "${group.name}" is at zero nodes and its ${view.source} lack label ${shown.map(([k, v]) => `${k}=${v}`).join(', ')}: the autoscaler's template node does not match the pod's selector, so it will not scale the group up`,
          fix: shown.map(([k, v]) => view.fixLabel(k, v)).join('; '),
        });
      }
      const unseen = group.taints.filter((t) => !view.taints.some((s) => s.key === t.key && (s.value ?? '') === (t.value ?? '') && s.effect === t.effect));
      if (unseen.length > 0) {
        findings.push({
          code: DoctorCode.AutoscalerCannotSeeGroup,
          group: group.name,
          message: `node group "${group.name}" is at zero nodes and its ${view.source} lack taint ${unseen.map(formatTaint).join(', ')}: the autoscaler will also scale it up for pods that cannot run there`,
          fix: unseen.map((t) => view.fixTaint(t)).join('; '),
        });
      }
    }
    if (findings.length === before || findings.slice(before).every((f) => f.code === DoctorCode.HostnameLabelMissing)) {
      findings.push({
        code: DoctorCode.ScaleUpExpected,
        group: group.name,
        message: `node group "${group.name}" (${members.length}/${group.maxSize} nodes) can add a node that takes the pod: waiting for the autoscaler`,
        fix: 'none needed; if no node comes, check that the autoscaler runs and manages the group',
      });
    }
  }
  return findings;
}

/** One line per finding: `TaintNotTolerated: … — fix: …`. */
export function formatFinding(finding: DoctorFinding): string {
  return `${finding.code}: ${finding.message} — fix: ${finding.fix}`;
}
