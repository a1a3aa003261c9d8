/**
 * Cluster Autoscaler on AWS: the Auto Scaling group tags that let it scale a tenant group up from
 * zero nodes. With no node to copy, CA builds its template node from the ASG's launch template
 * and these tags (cloudprovider/aws/README.md, "Auto-Discovery Setup" and "Scaling a node group
 * to 0"):
 *
 * - `k8s.io/cluster-autoscaler/node-template/label/<key>` = `<value>` for each node label,
 * - `k8s.io/cluster-autoscaler/node-template/taint/<key>` = `<value>:<Effect>` for each taint,
 * - `k8s.io/cluster-autoscaler/node-template/resources/<name>` = `<quantity>`,
 * - `k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>` for
 *   `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/<cluster>`.
 *
 * The parser is the reverse, for `tenants doctor`: what CA will see of a group, and which tags
 * are missing or malformed.
 */
import { z } from 'zod';
import { formatZodError } from '../../core/validation.js';
import type { Taint, TaintEffect } from '../../core/model.js';
import type { GroupTemplateView } from '../doctor.js';
import { groupNodeLabels, type NodeGroupSpec, type TenantClasses, TENANTS_API_VERSION } from '../classes.js';

export const CA_TAG_PREFIX = 'k8s.io/cluster-autoscaler/';
export const CA_LABEL_TAG = `${CA_TAG_PREFIX}node-template/label/`;
export const CA_TAINT_TAG = `${CA_TAG_PREFIX}node-template/taint/`;
export const CA_RESOURCES_TAG = `${CA_TAG_PREFIX}node-template/resources/`;
export const CA_ENABLED_TAG = `${CA_TAG_PREFIX}enabled`;

/** One Auto Scaling group as rendered: its size bounds, instance types and tags. */
export interface AsgDefinition {
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly instanceTypes: readonly string[];
  readonly zones: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

/** The document `--for cluster-autoscaler-aws` prints and `doctor --node-groups` reads. */
export interface AsgTagsDocument {
  readonly apiVersion: typeof TENANTS_API_VERSION;
  readonly kind: 'AutoScalingGroupTags';
  readonly clusterName: string;
  readonly groups: readonly AsgDefinition[];
}

/** The tags of one group's ASG. */
export function asgTags(group: NodeGroupSpec, clusterName: string): Record<string, string> {
  const tags: Record<string, string> = { [CA_ENABLED_TAG]: 'true', [`${CA_TAG_PREFIX}${clusterName}`]: 'owned' };
  for (const [key, value] of Object.entries(groupNodeLabels(group))) tags[`${CA_LABEL_TAG}${key}`] = value;
  for (const taint of group.taints) tags[`${CA_TAINT_TAG}${taint.key}`] = `${taint.value ?? ''}:${taint.effect}`;
  // CA reads cpu and memory from the instance type; the ephemeral storage of an EBS-backed node
  // it cannot know, and a pod requesting some would never scale the group from zero.
  // 20 GiB is the EKS node group's default root volume.
  tags[`${CA_RESOURCES_TAG}ephemeral-storage`] = '20Gi';
  return tags;
}

/** Every group's ASG definition. */
export function renderAsgTags(classes: TenantClasses, clusterName: string): AsgTagsDocument {
  return {
    apiVersion: TENANTS_API_VERSION,
    kind: 'AutoScalingGroupTags',
    clusterName,
    groups: classes.nodeGroups.map((g) => ({
      name: g.name,
      minSize: g.minSize,
      maxSize: g.maxSize,
      instanceTypes: [...g.instanceTypes],
      zones: [...g.zones],
      tags: asgTags(g, clusterName),
    })),
  };
}

/** A tag problem found by {@link parseAsgTags}. */
export interface TagProblem {
  readonly code: 'MalformedTaintTag' | 'NotDiscoverable';
  readonly tag: string;
  readonly message: string;
  readonly fix: string;
}

/** What Cluster Autoscaler sees of a group at zero nodes, read from its ASG's tags. */
export interface AsgTemplateView {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly problems: readonly TagProblem[];
}

const _EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
/** The EKS API and Terraform spell effects this way; CA's tags do not accept them. */
const _EKS_EFFECTS: Readonly<Record<string, TaintEffect>> = { NO_SCHEDULE: 'NoSchedule', PREFER_NO_SCHEDULE: 'PreferNoSchedule', NO_EXECUTE: 'NoExecute' };

/**
 * Reads an ASG's tags as CA does: labels and taints of the template node, and the problems that
 * make CA ignore a tag or the whole group (a taint without `:Effect`, an EKS-spelled effect,
 * missing auto-discovery tags).
 */
export function parseAsgTags(tags: Readonly<Record<string, string>>, clusterName: string | undefined): AsgTemplateView {
  const labels: Record<string, string> = {};
  const taints: Taint[] = [];
  const problems: TagProblem[] = [];
  for (const [tag, value] of Object.entries(tags)) {
    if (tag.startsWith(CA_LABEL_TAG)) {
      labels[tag.slice(CA_LABEL_TAG.length)] = value;
    } else if (tag.startsWith(CA_TAINT_TAG)) {
      const key = tag.slice(CA_TAINT_TAG.length);
      const colon = value.lastIndexOf(':');
      const effect = colon < 0 ? '' : value.slice(colon + 1);
      const taintValue = colon < 0 ? value : value.slice(0, colon);
      if ((_EFFECTS as readonly string[]).includes(effect)) {
        taints.push({ key, ...(taintValue ? { value: taintValue } : {}), effect: effect as TaintEffect });
        continue;
      }
      const eks = _EKS_EFFECTS[effect];
      const wanted = `${taintValue}:${eks ?? 'NoSchedule'}`;
      problems.push({
        code: 'MalformedTaintTag',
        tag,
        message: colon < 0
          ? `tag ${tag}="${value}" has no effect: Cluster Autoscaler ignores it`
          : `tag ${tag}="${value}" has effect "${effect}"${eks ? ' (the EKS API\'s spelling)' : ''}: Cluster Autoscaler ignores it`,
        fix: `set the tag's value to "${wanted}"`,
      });
    }
  }
  if (tags[CA_ENABLED_TAG] === undefined) {
    problems.push({ code: 'NotDiscoverable', tag: CA_ENABLED_TAG, message: `tag ${CA_ENABLED_TAG} is missing: auto-discovery will not find the group`, fix: `add the tag ${CA_ENABLED_TAG}=true` });
  }
  if (clusterName !== undefined && tags[`${CA_TAG_PREFIX}${clusterName}`] === undefined) {
    const tag = `${CA_TAG_PREFIX}${clusterName}`;
    problems.push({ code: 'NotDiscoverable', tag, message: `tag ${tag} is missing: auto-discovery for cluster "${clusterName}" will not find the group`, fix: `add the tag ${tag}=owned` });
  }
  return { labels, taints, problems };
}

/** How `doctor` sees a group defined by ASG tags: the template CA would build, and how to fix a missing tag. */
export function asgTemplateView(definition: Pick<AsgDefinition, 'tags'>, clusterName: string | undefined): GroupTemplateView {
  const view = parseAsgTags(definition.tags, clusterName);
  return {
    source: 'ASG tags',
    labels: view.labels,
    taints: view.taints,
    problems: view.problems,
    fixLabel: (key, value) => `tag the Auto Scaling group with ${CA_LABEL_TAG}${key}=${value}`,
    fixTaint: (taint) => `tag the Auto Scaling group with ${CA_TAINT_TAG}${taint.key}=${taint.value ?? ''}:${taint.effect}`,
  };
}

const _asgDocumentSchema = z.strictObject({
  apiVersion: z.literal(TENANTS_API_VERSION),
  kind: z.literal('AutoScalingGroupTags'),
  clusterName: z.string().min(1).optional(),
  groups: z.array(
    z.object({
      name: z.string().min(1),
      tags: z.record(z.string(), z.string()),
    }).loose(),
  ),
});

/**
 * Reads an AutoScalingGroupTags document (what `--for cluster-autoscaler-aws` prints, edited or
 * taken from the real ASGs) into a view per group, for `doctor --node-groups`.
 *
 * @throws {Error} one line naming the source and the bad field
 */
export function parseAsgTagsDocument(document: unknown, source = 'node-group definitions'): Map<string, GroupTemplateView> {
  const parsed = _asgDocumentSchema.safeParse(document);
  if (!parsed.success) throw new Error(`Invalid ${source}: ${formatZodError(parsed.error)}`);
  return new Map(parsed.data.groups.map((g) => [g.name, asgTemplateView(g, parsed.data.clusterName)]));
}
