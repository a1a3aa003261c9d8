/**
 * Cluster Autoscaler's kwok cloud provider (cloudprovider/kwok): its configuration ConfigMap
 * (`kwok-provider-config`, key `config`) and the template nodes it builds node groups from
 * (`kwok-provider-templates`, key `templates`, a v1 List of Nodes). Field and annotation names
 * follow the provider's kwok_types.go and kwok_constants.go.
 *
 * Each group's template node carries the group's labels, taints and the instance type's
 * capacity, and the annotations that name the group and its bounds. It carries no
 * `kubernetes.io/hostname`: the provider copies the template's labels onto every node it creates,
 * so a hostname here would give every node the same one. KWOK has no kubelet to set it either,
 * which is why the dev cluster's KWOK stages label each new node with its own name.
 */
import { stringify as toYaml } from 'yaml';
import { groupNodeLabels, NODE_GROUP_LABEL, type NodeGroupSpec, type TenantClasses } from '../classes.js';
import type { KubeObject } from '../bundle.js';
import { instanceShape, shapeResourceList } from '../instance-types.js';

export const KWOK_PROVIDER_CONFIG_MAP = 'kwok-provider-config';
export const KWOK_PROVIDER_TEMPLATES_MAP = 'kwok-provider-templates';
export const KWOK_NODEGROUP_NAME_ANNOTATION = 'cluster-autoscaler.kwok.nodegroup/name';
export const KWOK_NODEGROUP_MIN_ANNOTATION = 'cluster-autoscaler.kwok.nodegroup/min-count';
export const KWOK_NODEGROUP_MAX_ANNOTATION = 'cluster-autoscaler.kwok.nodegroup/max-count';
export const KWOK_NODEGROUP_DESIRED_ANNOTATION = 'cluster-autoscaler.kwok.nodegroup/desired-count';

/** The template node of one group. */
export function kwokTemplateNode(group: NodeGroupSpec): Record<string, unknown> {
  const instanceType = group.instanceTypes[0] ?? '';
  const shape = instanceShape(instanceType);
  const resources = shape === undefined ? {} : shapeResourceList(shape);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `${group.name}-template`,
      labels: {
        ...groupNodeLabels(group),
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': instanceType,
        'topology.kubernetes.io/zone': group.zones[0] ?? '',
        'node.kubernetes.io/capacity': group.capacityTypes[0] ?? 'on-demand',
      },
      annotations: {
        [KWOK_NODEGROUP_NAME_ANNOTATION]: group.name,
        [KWOK_NODEGROUP_MIN_ANNOTATION]: String(group.minSize),
        [KWOK_NODEGROUP_MAX_ANNOTATION]: String(group.maxSize),
        [KWOK_NODEGROUP_DESIRED_ANNOTATION]: String(group.minSize),
      },
    },
    spec: { taints: group.taints.map((t) => ({ ...t })) },
    status: { capacity: resources, allocatable: resources },
  };
}

/** The provider's configuration: static templates from the ConfigMap, grouped by Stowage's group label, no kwok-provider taint. */
export function kwokProviderConfig(): Record<string, unknown> {
  return {
    apiVersion: 'v1alpha1',
    readNodesFrom: 'configmap',
    nodegroups: { fromNodeLabelKey: NODE_GROUP_LABEL },
    // The provider's own taint would need a toleration in every tenant pod; the groups' taints
    // already keep other workloads off.
    nodes: { skipTaint: true },
    configmap: { name: KWOK_PROVIDER_TEMPLATES_MAP },
  };
}

/** Both ConfigMaps, in `namespace` (the one CA's `POD_NAMESPACE` names). */
export function renderClusterAutoscalerKwok(classes: TenantClasses, namespace: string): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': 'stowage' };
  const list = { apiVersion: 'v1', kind: 'List', items: classes.nodeGroups.map(kwokTemplateNode) };
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: KWOK_PROVIDER_CONFIG_MAP, namespace, labels }, data: { config: toYaml(kwokProviderConfig()) } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: KWOK_PROVIDER_TEMPLATES_MAP, namespace, labels }, data: { templates: toYaml(list) } },
  ];
}
