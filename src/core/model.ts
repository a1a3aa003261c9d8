/**
 * The plain-data model every Stowage decision is made on. Built once at the boundary (from
 * Kubernetes objects by `./from-kube.ts`, or by the simulator directly), trusted inside.
 *
 * Units inside the model are integers in the scheduler's own units, so that policy loops do
 * plain number arithmetic: cpu in millicores, memory and storage in bytes, pods as a count,
 * extended resources in their integer value (`nvidia.com/gpu: 1`). Exact decimal handling lives
 * in `Quantity`, at the boundary only.
 */

/** Resource name → amount in the scheduler's units (cpu: millicores, memory: bytes). */
export type Resources = Readonly<Record<string, number>>;

export const CapacityType = { Spot: 'spot', OnDemand: 'on-demand', Unknown: 'unknown' } as const;
export type CapacityType = (typeof CapacityType)[keyof typeof CapacityType];

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  /** Empty means every effect. */
  readonly effect?: TaintEffect | '';
  readonly tolerationSeconds?: number;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** A metav1.LabelSelector. `undefined` (no selector) and `{}` (everything) differ, as upstream. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  readonly values?: readonly string[];
}

export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly NodeSelectorRequirement[];
  readonly matchFields?: readonly NodeSelectorRequirement[];
}

export interface NodeAffinity {
  /** Terms are ORed; requirements inside a term are ANDed. */
  readonly required?: readonly NodeSelectorTerm[];
  readonly preferred?: readonly { readonly weight: number; readonly preference: NodeSelectorTerm }[];
}

export interface PodAffinityTerm {
  readonly labelSelector?: LabelSelector;
  /** Empty means the pod's own namespace (unless `namespaceSelector` is set). */
  readonly namespaces?: readonly string[];
  /** Namespaces by label, added to `namespaces`; `{}` means every namespace. */
  readonly namespaceSelector?: LabelSelector;
  readonly topologyKey: string;
}

export interface PodAffinity {
  readonly required?: readonly PodAffinityTerm[];
  readonly preferred?: readonly { readonly weight: number; readonly term: PodAffinityTerm }[];
}

export interface TopologySpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  readonly labelSelector?: LabelSelector;
  readonly minDomains?: number;
}

export interface SchedulingConstraints {
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly nodeAffinity?: NodeAffinity;
  readonly podAffinity?: PodAffinity;
  readonly podAntiAffinity?: PodAffinity;
  readonly tolerations?: readonly Toleration[];
  readonly topologySpread?: readonly TopologySpreadConstraint[];
}

export const WorkloadKind = {
  Deployment: 'Deployment',
  StatefulSet: 'StatefulSet',
  DaemonSet: 'DaemonSet',
  Job: 'Job',
  CronJob: 'CronJob',
  ReplicaSet: 'ReplicaSet',
  ReplicationController: 'ReplicationController',
  /** A pod with no controller. */
  None: 'None',
  /** A controller kind Stowage does not know (a CRD-managed pod). */
  Other: 'Other',
} as const;
export type WorkloadKind = (typeof WorkloadKind)[keyof typeof WorkloadKind];

/** The top-level owner of a pod: a rollout of a Deployment stays one workload. */
export interface WorkloadRef {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** Requests as the scheduler computes them (max of init, sum of containers and sidecars, plus overhead). */
  readonly requests: Resources;
  /**
   * Cpu (millicores) and memory (bytes) as the scheduler's resource scores count them (upstream's
   * Non0CPU/Non0Mem): the same sums with 100m and 200Mi for each container that sets no cpu or no
   * memory request. Set by `podFromKube`; when absent, a pod requesting none of one counts the
   * default once (the same for a pod with one container).
   */
  readonly nonZero?: { readonly cpu: number; readonly memory: number };
  /** Empty when not yet bound. */
  readonly nodeName: string;
  readonly phase: PodPhase;
  readonly ready: boolean;
  readonly priority: number;
  readonly priorityClassName: string;
  /** `spec.preemptionPolicy`: `Never` keeps the pod from preempting others; absent is `PreemptLowerPriority`. */
  readonly preemptionPolicy?: 'Never' | 'PreemptLowerPriority';
  readonly schedulerName: string;
  readonly owner: WorkloadRef;
  /** The direct controller owner (the ReplicaSet of a Deployment's pod), when there is one. */
  readonly controllerRef?: { readonly kind: string; readonly name: string; readonly uid: string };
  /**
   * What kube-scheduler's system-default topology spread counts for this pod (its DefaultSelector):
   * the selectors of the Services that select the pod and of its ReplicaSet, StatefulSet or
   * ReplicationController, ANDed. Absent when nothing selects it: the pod then has no default
   * spread. Set at the boundary, where those objects are known (`spreadSelectorResolver`).
   */
  readonly spreadSelector?: LabelSelector;
  readonly constraints: SchedulingConstraints;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly deletionRequestedAt?: number;
  /** Has emptyDir (not memory-backed) or hostPath volumes: evicting loses data. */
  readonly hasLocalStorage: boolean;
  /** Created by the kubelet from a file (mirror pod annotation). */
  readonly isMirror: boolean;
  /** Bound to PersistentVolumeClaims (zone-pinned storage). */
  readonly pvcNames: readonly string[];
}

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly allocatable: Resources;
  readonly capacity: Resources;
  readonly unschedulable: boolean;
  readonly ready: boolean;
  readonly capacityType: CapacityType;
  /** From `node.kubernetes.io/instance-type`; empty when unknown. */
  readonly instanceType: string;
  /** From `topology.kubernetes.io/zone`; empty when unknown. */
  readonly zone: string;
  readonly createdAt: number;
}

export interface WorkloadView {
  readonly ref: WorkloadRef;
  /** Desired replicas (spec.replicas), or undefined for kinds without one. */
  readonly replicas?: number;
  readonly selector?: LabelSelector;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PdbView {
  readonly namespace: string;
  readonly name: string;
  readonly selector?: LabelSelector;
  /** Integer or percentage string, as in the spec. Exactly one of the two is set. */
  readonly minAvailable?: number | string;
  readonly maxUnavailable?: number | string;
  /** From status, computed by the disruption controller. */
  readonly disruptionsAllowed: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly expectedPods: number;
}

/** An instance type's prices in US dollars per hour. */
export interface InstancePrice {
  readonly onDemand: number;
  readonly spot: number;
}

/**
 * An immutable view of a cluster at one instant: what every policy function takes.
 * Built by the live informers or by the simulator.
 */
export interface ClusterSnapshot {
  /** Milliseconds since the epoch at which the view was taken. */
  readonly takenAt: number;
  readonly nodes: readonly NodeView[];
  readonly pods: readonly PodView[];
  readonly workloads: readonly WorkloadView[];
  readonly pdbs: readonly PdbView[];
  /**
   * Measured use of each pod, by uid, in the units of `Resources` (cpu millicores, memory bytes):
   * what `metrics.k8s.io` reports live (containers summed), the usage model in the simulator.
   * Present only when a strategy asked for it; a pod missing from it has no measurement yet.
   */
  readonly podUsage?: ReadonlyMap<string, Resources>;
}
