/**
 * Builders from Kubernetes objects to the model, run once at the boundary.
 *
 * The input types are minimal structural views of the API objects, declared here so that core/
 * does not depend on @kubernetes/client-node: its `V1Pod`, `V1Node`, … are assignable to them,
 * and so are plain objects parsed from YAML or JSON. Timestamps may be `Date`s (client-node 1.x
 * gives those) or RFC 3339 strings (raw JSON).
 */
import { capacityTypeOf, DEFAULT_CAPACITY_TYPE_RULES, type CapacityTypeRule } from './capacity.js';
import {
  WorkloadKind,
  type LabelSelector,
  type LabelSelectorRequirement,
  type NodeSelectorRequirement,
  type NodeSelectorTerm,
  type NodeView,
  type PdbView,
  type PodAffinity,
  type PodAffinityTerm,
  type PodPhase,
  type PodView,
  type Resources,
  type SchedulingConstraints,
  type Taint,
  type TaintEffect,
  type Toleration,
  type TopologySpreadConstraint,
  type WorkloadRef,
  type WorkloadView,
} from './model.js';
import { Quantity, QuantityError } from './quantity.js';
import { quantityToSchedulerUnits } from './resources.js';

type StringMap = Readonly<Record<string, string>>;

/** A timestamp as client-node gives it (a `Date`) or as JSON carries it (RFC 3339). */
export type KubeTime = string | { getTime(): number };

/** A ResourceList; numbers are allowed because YAML reads `cpu: 1` as one. */
export type KubeResourceList = Readonly<Record<string, string | number>>;

export interface KubeOwnerReference {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly controller?: boolean;
}

export interface KubeObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: StringMap;
  readonly annotations?: StringMap;
  readonly creationTimestamp?: KubeTime;
  readonly deletionTimestamp?: KubeTime;
  readonly ownerReferences?: readonly KubeOwnerReference[];
  /** Counts spec changes (pods since Kubernetes 1.33). */
  readonly generation?: number;
}

export interface KubeLabelSelector {
  readonly matchLabels?: StringMap;
  readonly matchExpressions?: readonly { readonly key?: string; readonly operator?: string; readonly values?: readonly string[] }[];
}

export interface KubeNodeSelectorTerm {
  readonly matchExpressions?: readonly KubeNodeSelectorRequirement[];
  readonly matchFields?: readonly KubeNodeSelectorRequirement[];
}

export interface KubeNodeSelectorRequirement {
  readonly key?: string;
  readonly operator?: string;
  readonly values?: readonly string[];
}

export interface KubePodAffinityTerm {
  readonly labelSelector?: KubeLabelSelector;
  readonly namespaceSelector?: KubeLabelSelector;
  readonly namespaces?: readonly string[];
  readonly topologyKey?: string;
}

export interface KubePodAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: readonly KubePodAffinityTerm[];
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly { readonly weight?: number; readonly podAffinityTerm?: KubePodAffinityTerm }[];
}

export interface KubeAffinity {
  readonly nodeAffinity?: {
    readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly nodeSelectorTerms?: readonly KubeNodeSelectorTerm[] };
    readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly { readonly weight?: number; readonly preference?: KubeNodeSelectorTerm }[];
  };
  readonly podAffinity?: KubePodAffinity;
  readonly podAntiAffinity?: KubePodAffinity;
}

export interface KubeToleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

export interface KubeTaint {
  readonly key?: string;
  readonly value?: string;
  readonly effect?: string;
}

export interface KubeTopologySpreadConstraint {
  readonly maxSkew?: number;
  readonly topologyKey?: string;
  readonly whenUnsatisfiable?: string;
  readonly labelSelector?: KubeLabelSelector;
  readonly minDomains?: number;
}

export interface KubeContainer {
  readonly name?: string;
  readonly resources?: { readonly requests?: KubeResourceList };
  /** `Always` on an init container makes it a sidecar. */
  readonly restartPolicy?: string;
}

export interface KubeVolume {
  readonly name?: string;
  readonly emptyDir?: { readonly medium?: string };
  readonly hostPath?: { readonly path?: string };
  readonly persistentVolumeClaim?: { readonly claimName?: string };
  readonly ephemeral?: { readonly volumeClaimTemplate?: unknown };
}

export interface KubePodSpec {
  readonly nodeName?: string;
  readonly containers?: readonly KubeContainer[];
  readonly initContainers?: readonly KubeContainer[];
  readonly overhead?: KubeResourceList;
  /** Pod-level resources (PodLevelResources): override the containers' sum for cpu, memory and hugepages. */
  readonly resources?: { readonly requests?: KubeResourceList };
  readonly priority?: number;
  readonly priorityClassName?: string;
  readonly preemptionPolicy?: string;
  readonly schedulerName?: string;
  readonly nodeSelector?: StringMap;
  readonly affinity?: KubeAffinity;
  readonly tolerations?: readonly KubeToleration[];
  readonly topologySpreadConstraints?: readonly KubeTopologySpreadConstraint[];
  readonly volumes?: readonly KubeVolume[];
}

export interface KubeCondition {
  readonly type?: string;
  readonly status?: string;
}

export interface KubePod {
  readonly metadata?: KubeObjectMeta;
  readonly spec?: KubePodSpec;
  readonly status?: { readonly phase?: string; readonly conditions?: readonly KubeCondition[] };
}

export interface KubeNode {
  readonly metadata?: KubeObjectMeta;
  readonly spec?: { readonly unschedulable?: boolean; readonly taints?: readonly KubeTaint[] };
  readonly status?: { readonly allocatable?: KubeResourceList; readonly capacity?: KubeResourceList; readonly conditions?: readonly KubeCondition[] };
}

export interface KubePdb {
  readonly metadata?: KubeObjectMeta;
  readonly spec?: { readonly selector?: KubeLabelSelector; readonly minAvailable?: number | string; readonly maxUnavailable?: number | string };
  readonly status?: { readonly disruptionsAllowed?: number; readonly currentHealthy?: number; readonly desiredHealthy?: number; readonly expectedPods?: number };
}

/**
 * Any workload controller: Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob or
 * ReplicationController (whose selector is a plain map).
 */
export interface KubeWorkload {
  readonly metadata?: KubeObjectMeta;
  readonly spec?: {
    readonly replicas?: number;
    readonly selector?: KubeLabelSelector | StringMap;
    readonly template?: { readonly metadata?: { readonly labels?: StringMap } };
    /** CronJob only; listed so that a CronJob spec shares a field with this type. */
    readonly jobTemplate?: unknown;
  };
}
export type KubeDeployment = KubeWorkload;
export type KubeStatefulSet = KubeWorkload;
export type KubeDaemonSet = KubeWorkload;
export type KubeReplicaSet = KubeWorkload;
export type KubeJob = KubeWorkload;
export type KubeCronJob = KubeWorkload;

/** Maps a pod to the top-level workload that owns it. */
export type OwnerResolver = (pod: KubePod) => WorkloadRef;

/** A Service, as far as the scheduler's default spread reads it. */
export interface KubeService {
  readonly metadata?: KubeObjectMeta;
  readonly spec?: { readonly selector?: StringMap };
}

/** Maps a pod to its default spread selector (`PodView.spreadSelector`), or undefined when none. */
export type SpreadSelectorResolver = (pod: KubePod) => LabelSelector | undefined;

/** What {@link spreadSelectorResolver} looks a pod's selectors up in; a kind left out selects nothing. */
export interface SpreadSelectorSources {
  readonly services?: Iterable<KubeService>;
  readonly replicaSets?: Iterable<KubeReplicaSet>;
  readonly statefulSets?: Iterable<KubeStatefulSet>;
  readonly replicationControllers?: Iterable<KubeWorkload>;
}

/** The kinds {@link workloadFromKube} builds. */
export type ControllerKind = Exclude<WorkloadKind, typeof WorkloadKind.None | typeof WorkloadKind.Other>;

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
const POD_PHASES: ReadonlySet<string> = new Set<PodPhase>(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);
const TAINT_EFFECTS: ReadonlySet<string> = new Set<TaintEffect>(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
/** Upstream `IsSupportedPodLevelResource`: only these may be set at pod level. */
const _isPodLevelResource = (name: string): boolean => name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');

/**
 * The fields of a pod's view that its binding and status updates change (node, phase,
 * readiness): what a caller refreshes when it reuses a view made before such an update.
 */
export function podPlacementFields(pod: KubePod): Pick<PodView, 'nodeName' | 'phase' | 'ready'> {
  const phase = pod.status?.phase;
  return {
    nodeName: pod.spec?.nodeName ?? '',
    // The API server sets Pending on creation; a missing phase is a pod not yet seen by it.
    phase: phase === undefined ? 'Pending' : POD_PHASES.has(phase) ? (phase as PodPhase) : 'Unknown',
    ready: _conditionTrue(pod.status?.conditions, 'Ready'),
  };
}

/**
 * Builds a {@link PodView}. Requests are computed as the scheduler does
 * (see {@link podRequests}); `resolveOwner` usually comes from {@link ownerResolver}.
 *
 * @throws {QuantityError} when a request is not a quantity, naming the resource and pod
 */
export function podFromKube(pod: KubePod, resolveOwner: OwnerResolver, resolveSpreadSelector?: SpreadSelectorResolver): PodView {
  const meta = pod.metadata ?? {};
  const spec = pod.spec ?? {};
  const namespace = meta.namespace ?? '';
  const name = meta.name ?? '';
  const annotations = meta.annotations ?? {};
  const controller = _controllerRef(meta);
  const deletionRequestedAt = _toMillis(meta.deletionTimestamp);
  const volumes = spec.volumes ?? [];
  const context = `in pod "${namespace}/${name}"`;
  const requests = podRequests(spec, context);
  const spreadSelector = resolveSpreadSelector?.(pod);
  return {
    namespace,
    name,
    uid: meta.uid ?? '',
    labels: meta.labels ?? {},
    annotations,
    requests,
    nonZero: podNonZeroRequests(spec, requests, context),
    ...podPlacementFields(pod),
    priority: spec.priority ?? 0,
    priorityClassName: spec.priorityClassName ?? '',
    ...(spec.preemptionPolicy === 'Never' || spec.preemptionPolicy === 'PreemptLowerPriority' ? { preemptionPolicy: spec.preemptionPolicy } : {}),
    schedulerName: spec.schedulerName ?? 'default-scheduler',
    owner: resolveOwner(pod),
    ...(controller === undefined ? {} : { controllerRef: { kind: controller.kind ?? '', name: controller.name ?? '', uid: controller.uid ?? '' } }),
    ...(spreadSelector === undefined ? {} : { spreadSelector }),
    constraints: schedulingConstraintsFromKube(spec),
    createdAt: _toMillis(meta.creationTimestamp) ?? 0,
    ...(deletionRequestedAt === undefined ? {} : { deletionRequestedAt }),
    hasLocalStorage: volumes.some((v) => v.hostPath !== undefined || (v.emptyDir !== undefined && v.emptyDir.medium !== 'Memory')),
    isMirror: Object.hasOwn(annotations, MIRROR_ANNOTATION),
    pvcNames: volumes.flatMap((v) => {
      if (v.persistentVolumeClaim?.claimName !== undefined) return [v.persistentVolumeClaim.claimName];
      // A generic ephemeral volume is a PVC the controller names <pod>-<volume>.
      if (v.ephemeral !== undefined) return [`${name}-${v.name ?? ''}`];
      return [];
    }),
  };
}

/**
 * A pod's requests as k8s.io/component-helpers `resource.PodRequests` computes them for the
 * scheduler, converted to scheduler units, plus `pods: 1`:
 *
 * - regular containers are summed;
 * - a restartable init container (a sidecar, `restartPolicy: Always`) adds to that sum, since it
 *   keeps running beside them;
 * - each regular init container runs alone beside the sidecars started before it, so the pod
 *   needs at least its requests plus theirs: the largest of those is the init peak;
 * - the pod needs max(sum, init peak) per resource;
 * - pod-level `spec.resources.requests`, when set, replaces that for the resources it names
 *   (cpu, memory, hugepages-*);
 * - `spec.overhead` (RuntimeClass) is added.
 *
 * Sums are exact (quantities) and converted once at the end, as the scheduler does. A container
 * without a cpu or memory request adds 0: NodeResourcesFit uses 0 for fit.
 *
 * @param context - words for error messages, e.g. `in pod "shop/cart-1"`
 */
export function podRequests(spec: KubePodSpec, context = 'in pod spec'): Resources {
  return _podRequests(spec, context, undefined);
}

/** The scheduler's default cpu request for scoring a container that sets none (upstream DefaultMilliCPURequest). */
const _DEFAULT_CPU_REQUEST = '100m';
/** The scheduler's default memory request for scoring a container that sets none (upstream DefaultMemoryRequest, 200Mi). */
const _DEFAULT_MEMORY_REQUEST = String(200 * 1024 * 1024);

/**
 * The pod's cpu and memory as kube-scheduler 1.36 counts them for scoring (its `Non0CPU` and
 * `Non0Mem`, from `PodInfo.CalculateResource`): {@link podRequests} again, with 100m cpu and
 * 200Mi memory given to each container (init and sidecar included) that does not name that
 * resource in its requests (one that names it, even as 0, keeps it). With pod-level requests, only
 * a resource the pod's requests do not name gets the defaults.
 *
 * @param requests - the pod's {@link podRequests}, already computed
 */
export function podNonZeroRequests(spec: KubePodSpec, requests: Resources, context = 'in pod spec'): { cpu: number; memory: number } {
  const podLevel = spec.resources?.requests !== undefined;
  const missing: Record<string, string> = {};
  if (!podLevel || requests['cpu'] === undefined) missing['cpu'] = _DEFAULT_CPU_REQUEST;
  if (!podLevel || requests['memory'] === undefined) missing['memory'] = _DEFAULT_MEMORY_REQUEST;
  const nonZero = _podRequests(spec, context, missing);
  return { cpu: nonZero['cpu'] ?? 0, memory: nonZero['memory'] ?? 0 };
}

/** `podRequests`, with `nonMissing` as upstream's NonMissingContainerRequests: added to each container that names none of it. */
function _podRequests(spec: KubePodSpec, context: string, nonMissing: KubeResourceList | undefined): Resources {
  const own = (list: KubeResourceList | undefined): KubeResourceList | undefined => (nonMissing === undefined ? list : { ...nonMissing, ...list });
  const sum = new Map<string, Quantity>();
  for (const container of spec.containers ?? []) _addList(sum, own(container.resources?.requests), context);
  const sidecars = new Map<string, Quantity>();
  const initPeak = new Map<string, Quantity>();
  for (const container of spec.initContainers ?? []) {
    const requests = own(container.resources?.requests);
    if (container.restartPolicy === 'Always') {
      _addList(sum, requests, context);
      _addList(sidecars, requests, context);
      _maxInto(initPeak, sidecars);
    } else {
      const alongside = new Map(sidecars);
      _addList(alongside, requests, context);
      _maxInto(initPeak, alongside);
    }
  }
  _maxInto(sum, initPeak);
  const podLevel = spec.resources?.requests;
  if (podLevel !== undefined) {
    for (const name in podLevel) {
      const value = podLevel[name];
      if (value !== undefined && _isPodLevelResource(name)) sum.set(name, _parse(value, name, context));
    }
  }
  _addList(sum, spec.overhead, context);
  const out: Record<string, number> = {};
  for (const [name, quantity] of sum) out[name] = quantityToSchedulerUnits(name, quantity);
  out['pods'] = 1;
  return out;
}

/**
 * Builds a {@link NodeView}; the capacity type comes from the labels by `capacityRules`.
 *
 * @throws {QuantityError} when an allocatable or capacity value is not a quantity
 */
export function nodeFromKube(node: KubeNode, capacityRules: readonly CapacityTypeRule[] = DEFAULT_CAPACITY_TYPE_RULES): NodeView {
  const meta = node.metadata ?? {};
  const name = meta.name ?? '';
  const labels = meta.labels ?? {};
  const context = `in node "${name}"`;
  return {
    name,
    labels,
    annotations: meta.annotations ?? {},
    taints: (node.spec?.taints ?? []).flatMap(_taint),
    allocatable: _resources(node.status?.allocatable, context),
    capacity: _resources(node.status?.capacity, context),
    unschedulable: node.spec?.unschedulable === true,
    ready: _conditionTrue(node.status?.conditions, 'Ready'),
    capacityType: capacityTypeOf(labels, capacityRules),
    instanceType: labels['node.kubernetes.io/instance-type'] ?? labels['beta.kubernetes.io/instance-type'] ?? '',
    zone: labels['topology.kubernetes.io/zone'] ?? labels['failure-domain.beta.kubernetes.io/zone'] ?? '',
    createdAt: _toMillis(meta.creationTimestamp) ?? 0,
  };
}

/** Builds a {@link PdbView}; status counts default to 0 until the disruption controller fills them. */
export function pdbFromKube(pdb: KubePdb): PdbView {
  const meta = pdb.metadata ?? {};
  const spec = pdb.spec ?? {};
  const status = pdb.status ?? {};
  const selector = _labelSelector(spec.selector);
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    ...(selector === undefined ? {} : { selector }),
    ...(spec.minAvailable === undefined ? {} : { minAvailable: spec.minAvailable }),
    ...(spec.maxUnavailable === undefined ? {} : { maxUnavailable: spec.maxUnavailable }),
    disruptionsAllowed: status.disruptionsAllowed ?? 0,
    currentHealthy: status.currentHealthy ?? 0,
    desiredHealthy: status.desiredHealthy ?? 0,
    expectedPods: status.expectedPods ?? 0,
  };
}

/**
 * Builds a {@link WorkloadView} of a controller object. `replicas` is set for the kinds that have
 * it (defaulting to 1, as the API server does); a CronJob has no selector of its own; a
 * ReplicationController's map selector becomes `matchLabels` (its template labels when unset).
 */
export function workloadFromKube(obj: KubeWorkload, kind: ControllerKind): WorkloadView {
  const meta = obj.metadata ?? {};
  const spec = obj.spec ?? {};
  const ref: WorkloadRef = { kind, namespace: meta.namespace ?? '', name: meta.name ?? '' };
  let selector: LabelSelector | undefined;
  switch (kind) {
    case WorkloadKind.CronJob:
      selector = undefined;
      break;
    case WorkloadKind.ReplicationController: {
      const map = (spec.selector as StringMap | undefined) ?? spec.template?.metadata?.labels;
      selector = map === undefined ? undefined : { matchLabels: map };
      break;
    }
    case WorkloadKind.Deployment:
    case WorkloadKind.StatefulSet:
    case WorkloadKind.DaemonSet:
    case WorkloadKind.ReplicaSet:
    case WorkloadKind.Job:
      selector = _labelSelector(spec.selector);
      break;
  }
  const hasReplicas = kind === 'Deployment' || kind === 'StatefulSet' || kind === 'ReplicaSet' || kind === 'ReplicationController';
  return {
    ref,
    ...(hasReplicas ? { replicas: spec.replicas ?? 1 } : {}),
    ...(selector === undefined ? {} : { selector }),
    annotations: meta.annotations ?? {},
    labels: meta.labels ?? {},
  };
}

/**
 * An {@link OwnerResolver} that follows a pod's controller reference up to its top-level workload:
 * ReplicaSet → its Deployment, Job → its CronJob, StatefulSet, DaemonSet and
 * ReplicationController as themselves. Kinds are matched with their API group, so a CRD that
 * reuses a name (OpenKruise's `apps.kruise.io` StatefulSet) is `Other`; so is a ReplicaSet or Job
 * controlled by something else (an Argo Rollout), named after that controller. A pod without a
 * controller is `None`, named after itself.
 *
 * When a pod's ReplicaSet is not among `replicaSets` (informers start in any order) and the pod's
 * `pod-template-hash` label ends the ReplicaSet's name, the Deployment is its name without that
 * suffix, which is how the Deployment controller names ReplicaSets.
 */
export function ownerResolver(replicaSets: Iterable<KubeReplicaSet>, jobs: Iterable<KubeJob>): OwnerResolver {
  const rsIndex = _indexByName(replicaSets);
  const jobIndex = _indexByName(jobs);
  return (pod) => {
    const meta = pod.metadata ?? {};
    const namespace = meta.namespace ?? '';
    const ref = _controllerRef(meta);
    if (ref === undefined) return { kind: WorkloadKind.None, namespace, name: meta.name ?? '' };
    const name = ref.name ?? '';
    const group = _apiGroup(ref.apiVersion);
    switch (`${group}/${ref.kind ?? ''}`) {
      case 'apps/ReplicaSet': {
        const rs = rsIndex.get(`${namespace}/${name}`);
        if (rs !== undefined) return _parentOr(rs, namespace, WorkloadKind.ReplicaSet, name, 'apps', WorkloadKind.Deployment);
        const hash = meta.labels?.[POD_TEMPLATE_HASH_LABEL];
        if (hash !== undefined && hash !== '' && name.endsWith(`-${hash}`)) {
          return { kind: WorkloadKind.Deployment, namespace, name: name.slice(0, -hash.length - 1) };
        }
        return { kind: WorkloadKind.ReplicaSet, namespace, name };
      }
      case 'batch/Job': {
        const job = jobIndex.get(`${namespace}/${name}`);
        if (job !== undefined) return _parentOr(job, namespace, WorkloadKind.Job, name, 'batch', WorkloadKind.CronJob);
        return { kind: WorkloadKind.Job, namespace, name };
      }
      case 'apps/StatefulSet':
        return { kind: WorkloadKind.StatefulSet, namespace, name };
      case 'apps/DaemonSet':
        return { kind: WorkloadKind.DaemonSet, namespace, name };
      case 'apps/Deployment':
        return { kind: WorkloadKind.Deployment, namespace, name };
      case '/ReplicationController':
        return { kind: WorkloadKind.ReplicationController, namespace, name };
      case 'batch/CronJob':
        return { kind: WorkloadKind.CronJob, namespace, name };
      default:
        return { kind: WorkloadKind.Other, namespace, name };
    }
  };
}

/**
 * kube-scheduler's DefaultSelector (1.36, `helper.DefaultSelector`), the selector of its
 * system-default topology spread: the selectors of the Services of the pod's namespace that select
 * it (a Service without a selector selects nothing) merged, then its controller's: a
 * ReplicationController's map merged in, a ReplicaSet's or StatefulSet's requirements added.
 * Undefined when that is empty: the pod then has no default spread. Pods of other controllers
 * (Jobs, DaemonSets) spread only by Services.
 */
export function spreadSelectorResolver(sources: SpreadSelectorSources): SpreadSelectorResolver {
  const services = new Map<string, StringMap[]>();
  for (const service of sources.services ?? []) {
    const selector = service.spec?.selector;
    if (selector === undefined || selector === null) continue;
    const namespace = service.metadata?.namespace ?? '';
    let list = services.get(namespace);
    if (list === undefined) services.set(namespace, (list = []));
    list.push(selector);
  }
  const replicaSets = _indexByName(sources.replicaSets ?? []);
  const statefulSets = _indexByName(sources.statefulSets ?? []);
  const controllers = _indexByName(sources.replicationControllers ?? []);
  return (pod) => {
    const meta = pod.metadata ?? {};
    const namespace = meta.namespace ?? '';
    const labels = meta.labels ?? {};
    const matchLabels: Record<string, string> = {};
    for (const selector of services.get(namespace) ?? []) {
      if (Object.entries(selector).every(([key, value]) => labels[key] === value)) Object.assign(matchLabels, selector);
    }
    const expressions: LabelSelectorRequirement[] = [];
    const ref = _controllerRef(meta);
    const key = `${namespace}/${ref?.name ?? ''}`;
    switch (`${_apiGroup(ref?.apiVersion)}/${ref?.kind ?? ''}`) {
      case '/ReplicationController': {
        const selector = controllers.get(key)?.spec?.selector;
        // A ReplicationController's selector is a plain map, merged as upstream merges label sets.
        if (selector !== undefined && selector !== null) Object.assign(matchLabels, selector);
        break;
      }
      case 'apps/ReplicaSet':
      case 'apps/StatefulSet': {
        const owner = ref?.kind === 'ReplicaSet' ? replicaSets.get(key) : statefulSets.get(key);
        const selector = _labelSelector(owner?.spec?.selector);
        // Requirements are added, not merged: a key the Services name with another value must match both.
        for (const [label, value] of Object.entries(selector?.matchLabels ?? {})) {
          if (matchLabels[label] === undefined || matchLabels[label] === value) matchLabels[label] = value;
          else expressions.push({ key: label, operator: 'In', values: [value] });
        }
        expressions.push(...(selector?.matchExpressions ?? []));
        break;
      }
      default:
    }
    if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return undefined;
    return { ...(Object.keys(matchLabels).length === 0 ? {} : { matchLabels }), ...(expressions.length === 0 ? {} : { matchExpressions: expressions }) };
  };
}

/** The owner of a ReplicaSet or Job: its expected parent kind, another controller (Other), or itself. */
function _parentOr(obj: KubeWorkload, namespace: string, selfKind: WorkloadKind, selfName: string, parentGroup: string, parentKind: WorkloadKind): WorkloadRef {
  const parent = _controllerRef(obj.metadata ?? {});
  if (parent === undefined) return { kind: selfKind, namespace, name: selfName };
  const kind = parent.kind === parentKind && _apiGroup(parent.apiVersion) === parentGroup ? parentKind : WorkloadKind.Other;
  return { kind, namespace, name: parent.name ?? '' };
}

function _indexByName(objects: Iterable<KubeWorkload>): Map<string, KubeWorkload> {
  const index = new Map<string, KubeWorkload>();
  for (const obj of objects) index.set(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`, obj);
  return index;
}

function _controllerRef(meta: KubeObjectMeta): KubeOwnerReference | undefined {
  return meta.ownerReferences?.find((r) => r.controller === true);
}

/** `apps` for `apps/v1`, `` for the core group's `v1`. */
function _apiGroup(apiVersion: string | undefined): string {
  if (apiVersion === undefined) return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function _conditionTrue(conditions: readonly KubeCondition[] | undefined, type: string): boolean {
  return conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
}

/** The scheduling constraints of a pod spec, as {@link podFromKube} reads them; for callers that need no more of the pod. */
export function schedulingConstraintsFromKube(spec: KubePodSpec): SchedulingConstraints {
  const affinity = spec.affinity;
  const nodeAffinity = affinity?.nodeAffinity;
  const required = nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const preferred = nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  const podAffinity = _podAffinity(affinity?.podAffinity);
  const podAntiAffinity = _podAffinity(affinity?.podAntiAffinity);
  const tolerations = spec.tolerations?.flatMap(_toleration);
  const topologySpread = spec.topologySpreadConstraints?.flatMap(_topologySpread);
  return {
    ...(spec.nodeSelector === undefined ? {} : { nodeSelector: spec.nodeSelector }),
    ...(nodeAffinity === undefined
      ? {}
      : {
          nodeAffinity: {
            ...(required === undefined ? {} : { required: (required.nodeSelectorTerms ?? []).map(_nodeSelectorTerm) }),
            ...(preferred === undefined ? {} : { preferred: preferred.map((p) => ({ weight: p.weight ?? 0, preference: _nodeSelectorTerm(p.preference ?? {}) })) }),
          },
        }),
    ...(podAffinity === undefined ? {} : { podAffinity }),
    ...(podAntiAffinity === undefined ? {} : { podAntiAffinity }),
    ...(tolerations === undefined ? {} : { tolerations }),
    ...(topologySpread === undefined ? {} : { topologySpread }),
  };
}

/**
 * Requirements keep unknown operators out of the model's union types by replacing them with one
 * that never matches (`In` without values): upstream fails such a requirement's whole selector or
 * term, and so does this.
 */
const _NEVER: { readonly operator: 'In'; readonly values: readonly string[] } = { operator: 'In', values: [] };
const _NODE_OPERATORS: ReadonlySet<string> = new Set<NodeSelectorRequirement['operator']>(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);
const _LABEL_OPERATORS: ReadonlySet<string> = new Set<LabelSelectorRequirement['operator']>(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function _nodeSelectorTerm(term: KubeNodeSelectorTerm): NodeSelectorTerm {
  const requirement = (r: KubeNodeSelectorRequirement): NodeSelectorRequirement =>
    _NODE_OPERATORS.has(r.operator ?? '')
      ? { key: r.key ?? '', operator: r.operator as NodeSelectorRequirement['operator'], ...(r.values === undefined ? {} : { values: r.values }) }
      : { key: r.key ?? '', ..._NEVER };
  return {
    ...(term.matchExpressions === undefined ? {} : { matchExpressions: term.matchExpressions.map(requirement) }),
    ...(term.matchFields === undefined ? {} : { matchFields: term.matchFields.map(requirement) }),
  };
}

function _labelSelector(selector: KubeLabelSelector | undefined): LabelSelector | undefined {
  if (selector === undefined || selector === null) return undefined;
  const expressions = selector.matchExpressions?.map(
    (r): LabelSelectorRequirement =>
      _LABEL_OPERATORS.has(r.operator ?? '')
        ? { key: r.key ?? '', operator: r.operator as LabelSelectorRequirement['operator'], ...(r.values === undefined ? {} : { values: r.values }) }
        : { key: r.key ?? '', ..._NEVER },
  );
  return {
    ...(selector.matchLabels === undefined ? {} : { matchLabels: selector.matchLabels }),
    ...(expressions === undefined ? {} : { matchExpressions: expressions }),
  };
}

function _podAffinityTerm(term: KubePodAffinityTerm): PodAffinityTerm {
  const labelSelector = _labelSelector(term.labelSelector);
  const namespaceSelector = _labelSelector(term.namespaceSelector);
  return {
    ...(labelSelector === undefined ? {} : { labelSelector }),
    ...(term.namespaces === undefined ? {} : { namespaces: term.namespaces }),
    ...(namespaceSelector === undefined ? {} : { namespaceSelector }),
    topologyKey: term.topologyKey ?? '',
  };
}

function _podAffinity(affinity: KubePodAffinity | undefined): PodAffinity | undefined {
  if (affinity === undefined) return undefined;
  const required = affinity.requiredDuringSchedulingIgnoredDuringExecution;
  const preferred = affinity.preferredDuringSchedulingIgnoredDuringExecution;
  return {
    ...(required === undefined ? {} : { required: required.map(_podAffinityTerm) }),
    ...(preferred === undefined ? {} : { preferred: preferred.map((p) => ({ weight: p.weight ?? 0, term: _podAffinityTerm(p.podAffinityTerm ?? {}) })) }),
  };
}

/** Drops what cannot tolerate anything: an unknown effect, or an operator upstream does not enable (Lt/Gt). */
function _toleration(t: KubeToleration): Toleration[] {
  if (t.effect !== undefined && t.effect !== '' && !TAINT_EFFECTS.has(t.effect)) return [];
  if (t.operator !== undefined && t.operator !== '' && t.operator !== 'Equal' && t.operator !== 'Exists') return [];
  return [
    {
      ...(t.key === undefined ? {} : { key: t.key }),
      ...(t.operator === undefined || t.operator === '' ? {} : { operator: t.operator }),
      ...(t.value === undefined ? {} : { value: t.value }),
      ...(t.effect === undefined ? {} : { effect: t.effect as TaintEffect | '' }),
      ...(t.tolerationSeconds === undefined || t.tolerationSeconds === null ? {} : { tolerationSeconds: t.tolerationSeconds }),
    },
  ];
}

function _taint(t: KubeTaint): Taint[] {
  if (t.effect === undefined || !TAINT_EFFECTS.has(t.effect)) return [];
  return [{ key: t.key ?? '', ...(t.value === undefined ? {} : { value: t.value }), effect: t.effect as TaintEffect }];
}

function _topologySpread(c: KubeTopologySpreadConstraint): TopologySpreadConstraint[] {
  if (c.whenUnsatisfiable !== 'DoNotSchedule' && c.whenUnsatisfiable !== 'ScheduleAnyway') return [];
  const labelSelector = _labelSelector(c.labelSelector);
  return [
    {
      maxSkew: c.maxSkew ?? 1,
      topologyKey: c.topologyKey ?? '',
      whenUnsatisfiable: c.whenUnsatisfiable,
      ...(labelSelector === undefined ? {} : { labelSelector }),
      ...(c.minDomains === undefined || c.minDomains === null ? {} : { minDomains: c.minDomains }),
    },
  ];
}

function _resources(list: KubeResourceList | undefined, context: string): Resources {
  const out: Record<string, number> = {};
  if (list === undefined) return out;
  for (const name in list) {
    const value = list[name];
    if (value !== undefined) out[name] = quantityToSchedulerUnits(name, _parse(value, name, context));
  }
  return out;
}

function _addList(into: Map<string, Quantity>, list: KubeResourceList | undefined, context: string): void {
  if (list === undefined) return;
  for (const name in list) {
    const value = list[name];
    if (value === undefined) continue;
    const quantity = _parse(value, name, context);
    const current = into.get(name);
    into.set(name, current === undefined ? quantity : current.add(quantity));
  }
}

/** Upstream `maxResourceList`: raises each resource of `into` to `other`'s where that is larger. */
function _maxInto(into: Map<string, Quantity>, other: ReadonlyMap<string, Quantity>): void {
  for (const [name, quantity] of other) {
    const current = into.get(name);
    if (current === undefined || quantity.cmp(current) > 0) into.set(name, quantity);
  }
}

/**
 * Request strings repeat across a cluster ("100m", "128Mi"), so parses are memoised; quantities
 * are immutable, hence safe to share. Cleared when full rather than LRU: cheap and good enough.
 */
const _parseCache = new Map<string, Quantity>();
const _PARSE_CACHE_LIMIT = 4096;

function _parse(value: string | number, resource: string, context: string): Quantity {
  const text = typeof value === 'number' ? String(value) : value;
  let quantity = _parseCache.get(text);
  if (quantity !== undefined) return quantity;
  try {
    quantity = Quantity.parse(text);
  } catch (error) {
    if (error instanceof QuantityError) throw new QuantityError(text, error.reason, `for resource ${JSON.stringify(resource)} ${context}`);
    throw error;
  }
  if (_parseCache.size >= _PARSE_CACHE_LIMIT) _parseCache.clear();
  _parseCache.set(text, quantity);
  return quantity;
}

/**
 * Epoch milliseconds of a `Date`-like or an RFC 3339 string, computed by hand because core/ does
 * not touch the `Date` global. Undefined when absent.
 *
 * @throws {RangeError} on a malformed string or an invalid date
 */
export function toMillis(time: KubeTime | undefined | null): number | undefined {
  return _toMillis(time);
}

const _RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function _toMillis(time: KubeTime | undefined | null): number | undefined {
  if (time === undefined || time === null) return undefined;
  if (typeof time !== 'string') {
    const ms = time.getTime();
    if (Number.isNaN(ms)) throw new RangeError('Invalid timestamp: invalid date');
    return ms;
  }
  const m = _RFC3339.exec(time);
  if (m === null) throw new RangeError(`Invalid timestamp ${JSON.stringify(time)}: expected RFC 3339, like "2024-05-01T12:00:00Z"`);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > _daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60) {
    throw new RangeError(`Invalid timestamp ${JSON.stringify(time)}: no such date or time`);
  }
  const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const offsetMinutes = m[8] !== undefined || m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  return ((_daysFromCivil(year, month, day) * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + fraction;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
function _daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function _daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
