/**
 * What Karpenter can launch, read from its NodePools (`karpenter.sh/v1`), as the descheduler's
 * node offers; and the NodeClaim that launches one of them. Pure: the objects in, plain data out.
 *
 * **Offers.** A NodePool offers an instance type in a capacity type and zone when its template's
 * requirements allow the three (and every other requirement its labels can be judged on), its
 * limits leave room for one more node of the type, and it is Ready. The catalogue is Stowage's
 * own: the types its price table prices and whose shape it knows (`tenants/instance-types.ts`),
 * priced from the same table the planner prices nodes by; the dev cluster's Karpenter (KWOK
 * provider) is given its instance types from the same two (`kwokInstanceTypes`), so both agree.
 * A type Stowage does not know is not offered (a real cluster's Karpenter may know more).
 *
 * **NodeClaim.** Built as Karpenter's provisioner builds one from a NodePool
 * (`pkg/controllers/provisioning/scheduling/nodeclaimtemplate.go`, ported as an idea): the
 * template's labels, taints, startup taints, nodeClassRef, expireAfter and terminationGracePeriod;
 * the `karpenter.sh/nodepool` and node-class labels; the NodePool's hash annotations (so
 * Karpenter's drift check sees it as the pool's); the NodePool as owner; its requirements with
 * the instance type, capacity type and zone pinned to the offer's (the provisioner narrows them
 * to the types the pods fit; here the plan chose one); `resources.requests` what the pods planned
 * onto it request.
 */
import type { CapacityType, NodeView, Resources, Taint } from '../core/model.js';
import type { PriceTable } from '../core/pricing.js';
import { Quantity } from '../core/quantity.js';
import { formatAmount, resourcesFromList } from '../core/resources.js';
import type { DisruptionBudget } from '../policy/deschedule/disruption-budget.js';
import type { NodeOffer } from '../policy/deschedule/types.js';
import { INSTANCE_SHAPES, shapeResourceList, type InstanceShape } from '../tenants/instance-types.js';
import { KARPENTER_CAPACITY_TYPE_LABEL, KARPENTER_NODEPOOL_LABEL } from '../tenants/nodegroups/karpenter.js';

/** The NodePool API. */
export const NODE_POOLS = { group: 'karpenter.sh', version: 'v1', plural: 'nodepools' } as const;
/** The NodeClaim API. */
export const NODE_CLAIMS = { group: 'karpenter.sh', version: 'v1', plural: 'nodeclaims' } as const;
/** On a NodeClaim the descheduler created: `<plan id>/<launch name>`, which tells a retried create's 409 apart from a clash. */
export const LAUNCH_ANNOTATION = 'stowage.io/launched-for';

const _INSTANCE_TYPE = 'node.kubernetes.io/instance-type';
const _ZONE = 'topology.kubernetes.io/zone';
const _ARCH = 'kubernetes.io/arch';
const _OS = 'kubernetes.io/os';
const _HASH = 'karpenter.sh/nodepool-hash';
const _HASH_VERSION = 'karpenter.sh/nodepool-hash-version';
/** Label domains whose keys only the provider resolves: a requirement on one Stowage cannot judge keeps the pool from offering. */
const _RESTRICTED = /(^|\.)(kubernetes\.io|k8s\.io|karpenter\.sh|karpenter\.k8s\.aws|karpenter\.kwok\.sh)\//;

/** A NodeSelectorRequirement of a NodePool (`minValues` aside). */
export interface NodePoolRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
  readonly minValues?: number;
}

/** The fields of a NodePool (`karpenter.sh/v1`) the descheduler reads. */
export interface KarpenterNodePool {
  readonly metadata?: { readonly name?: string; readonly uid?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly template?: {
      readonly metadata?: { readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> };
      readonly spec?: {
        readonly nodeClassRef?: { readonly group?: string; readonly kind?: string; readonly name?: string };
        readonly taints?: readonly Taint[];
        readonly startupTaints?: readonly Taint[];
        readonly requirements?: readonly NodePoolRequirement[];
        readonly expireAfter?: string;
        readonly terminationGracePeriod?: string;
      };
    };
    readonly limits?: Readonly<Record<string, string | number>>;
    readonly disruption?: { readonly budgets?: readonly DisruptionBudget[] };
  };
  readonly status?: {
    readonly resources?: Readonly<Record<string, string>>;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly message?: string }[];
  };
}

/** The fields of a NodeClaim the descheduler reads. */
export interface KarpenterNodeClaim {
  readonly metadata?: {
    readonly name?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: unknown;
  };
  readonly status?: { readonly nodeName?: string; readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly message?: string }[] };
}

/** One offer's choice, named by its `NodeOffer.id`. */
export interface OfferChoice {
  readonly pool: string;
  readonly instanceType: string;
  readonly capacityType: 'spot' | 'on-demand';
  /** Empty: the pool and the cluster name no zone; Karpenter picks one. */
  readonly zone: string;
}

/** The id of an offer: `<pool>/<type>/<capacity type>/<zone>`. */
export function offerId(choice: OfferChoice): string {
  return `${choice.pool}/${choice.instanceType}/${choice.capacityType}/${choice.zone}`;
}

/** The choice an offer id names, or undefined when it is not one. */
export function parseOfferId(id: string): OfferChoice | undefined {
  const [pool, instanceType, capacityType, zone, ...rest] = id.split('/');
  if (pool === undefined || instanceType === undefined || zone === undefined || rest.length > 0) return undefined;
  if (capacityType !== 'spot' && capacityType !== 'on-demand') return undefined;
  return { pool, instanceType, capacityType, zone };
}

/** A NodePool that offers nothing, and why. */
export interface RefusedPool {
  readonly pool: string;
  readonly reason: string;
}

/** What the NodePools offer. */
export interface PoolOffers {
  readonly offers: readonly NodeOffer[];
  readonly refused: readonly RefusedPool[];
  /** Each pool's disruption budgets (`spec.disruption.budgets`, empty when it sets none: Karpenter's default then), when the pools were read. */
  readonly budgets?: ReadonlyMap<string, readonly DisruptionBudget[]>;
}

/** Each pool's disruption budgets, as `PoolOffers.budgets`. */
export function poolBudgets(pools: readonly KarpenterNodePool[]): Map<string, readonly DisruptionBudget[]> {
  return new Map(pools.map((p) => [p.metadata?.name ?? '', (p.spec?.disruption?.budgets ?? []).map((b) => ({ ...b }))] as const));
}

/**
 * The offers of `pools` (see the module comment). `claims` count toward a pool's `nodes` limit
 * (status may lag a launch by seconds); `nodes` give the zones when a pool names none, and the
 * allocatable of a type a node of it already shows.
 */
export function nodePoolOffers(pools: readonly KarpenterNodePool[], claims: readonly KarpenterNodeClaim[], nodes: readonly NodeView[], prices: PriceTable): PoolOffers {
  const offers: NodeOffer[] = [];
  const refused: RefusedPool[] = [];
  const clusterZones = [...new Set(nodes.map((n) => n.zone).filter((z) => z !== ''))].sort();
  for (const pool of pools) {
    const found = _poolOffers(pool, claims, clusterZones.length === 0 ? [''] : clusterZones, nodes, prices);
    if (typeof found === 'string') refused.push({ pool: pool.metadata?.name ?? '', reason: found });
    else offers.push(...found);
  }
  return { offers, refused };
}

/**
 * Whether `pool` still offers `choice` (Ready, requirements, limits with `claims` counted), for a
 * check right before the launch: undefined when it does, else why not.
 */
export function poolStillOffers(pool: KarpenterNodePool, claims: readonly KarpenterNodeClaim[], choice: OfferChoice, prices: PriceTable): string | undefined {
  const found = _poolOffers(pool, claims, [choice.zone], [], prices);
  if (typeof found === 'string') return found;
  const id = offerId(choice);
  return found.some((o) => o.id === id) ? undefined : `Its requirements do not allow a ${choice.capacityType} ${choice.instanceType}${choice.zone === '' ? '' : ` in ${choice.zone}`}`;
}

/** The offers of one pool in `zones` (those its requirements allow), or why it offers none. */
function _poolOffers(pool: KarpenterNodePool, claims: readonly KarpenterNodeClaim[], zones: readonly string[], nodes: readonly NodeView[], prices: PriceTable): NodeOffer[] | string {
  const name = pool.metadata?.name ?? '';
  const why = _poolRefusal(pool);
  if (why !== undefined) return why;
  const requirements = pool.spec?.template?.spec?.requirements ?? [];
  const templateLabels = pool.spec?.template?.metadata?.labels ?? {};
  const unjudged = requirements.find((r) => _RESTRICTED.test(r.key) && !_JUDGED.has(r.key) && !(r.key in templateLabels));
  if (unjudged !== undefined) return `Cannot judge its requirement on "${unjudged.key}"`;
  const poolClaims = claims.filter((c) => c.metadata?.labels?.[KARPENTER_NODEPOOL_LABEL] === name && (c.metadata.deletionTimestamp === undefined || c.metadata.deletionTimestamp === null)).length;
  const offers: NodeOffer[] = [];
  let full: string | undefined;
  for (const instanceType of prices.instanceTypes()) {
    const shape = INSTANCE_SHAPES.get(instanceType);
    if (shape === undefined) continue;
    const over = _overLimit(pool, shape, poolClaims);
    if (over !== undefined) {
      full ??= over;
      continue;
    }
    for (const capacityType of ['on-demand', 'spot'] as const) {
      const usdPerHour = prices.priceOf(instanceType, capacityType);
      if (usdPerHour === undefined) continue;
      for (const zone of zones) {
        const choice: OfferChoice = { pool: name, instanceType, capacityType, zone };
        const labels = offerLabels(pool, choice);
        if (!requirements.every((r) => _allows(r, labels[r.key]))) continue;
        offers.push({ id: offerId(choice), usdPerHour, node: _offerNode(pool, labels, instanceType, shape, capacityType, zone, nodes), group: name });
      }
    }
  }
  return offers.length > 0 ? offers : (full ?? 'No instance type Stowage prices meets its requirements');
}

/** Keys of the provider's domains whose value an offer's labels give. */
const _JUDGED = new Set([_INSTANCE_TYPE, _ZONE, KARPENTER_CAPACITY_TYPE_LABEL, _ARCH, _OS, KARPENTER_NODEPOOL_LABEL, ...Object.keys(_typeLabels('m5.large', { vcpus: 2, memoryGiB: 8, pods: 29 }))]);

function _poolRefusal(pool: KarpenterNodePool): string | undefined {
  const ready = pool.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return `Not Ready${ready?.message ? `: ${ready.message}` : ''}`;
  const ref = pool.spec?.template?.spec?.nodeClassRef;
  if (ref?.group === undefined || ref.kind === undefined || ref.name === undefined) return 'Its template has no nodeClassRef';
  return undefined;
}

/** Which limit one more node of `shape` would pass, or undefined when all leave room. */
function _overLimit(pool: KarpenterNodePool, shape: InstanceShape, claims: number): string | undefined {
  const limits = pool.spec?.limits ?? {};
  const used = pool.status?.resources ?? {};
  const adds = resourcesFromList(shapeResourceList(shape));
  for (const [name, raw] of Object.entries(limits)) {
    const limit = _amount(name, String(raw));
    let usage = used[name] === undefined ? 0 : _amount(name, used[name]);
    let add = adds[name] ?? 0;
    if (name === 'nodes') {
      // Launched but not yet counted in status (its counter runs every few seconds) counts too.
      usage = Math.max(usage, claims);
      add = 1;
    }
    if (usage + add > limit) return `Its limit ${name}: ${formatAmount(name, limit)} leaves no room for one more node (${formatAmount(name, usage)} in use)`;
  }
  return undefined;
}

function _amount(name: string, text: string): number {
  const q = Quantity.parse(text);
  return name === 'cpu' ? q.milliValue() : q.value();
}

/**
 * The labels a node of the choice gets: the template's, the requirements' single custom values
 * (as Karpenter resolves them), the well-known ones of the type, capacity type and zone, the pool's.
 */
export function offerLabels(pool: KarpenterNodePool, choice: OfferChoice): Readonly<Record<string, string>> {
  const labels: Record<string, string> = {};
  for (const r of pool.spec?.template?.spec?.requirements ?? []) {
    // Karpenter sets a custom label a requirement gives one value to (`In`, first of its values).
    if (!_RESTRICTED.test(r.key) && r.operator === 'In' && r.values !== undefined && r.values.length > 0) labels[r.key] = [...r.values].sort()[0] as string;
  }
  Object.assign(labels, pool.spec?.template?.metadata?.labels ?? {});
  const shape = INSTANCE_SHAPES.get(choice.instanceType);
  if (shape !== undefined) Object.assign(labels, _typeLabels(choice.instanceType, shape));
  labels[_INSTANCE_TYPE] = choice.instanceType;
  labels[KARPENTER_CAPACITY_TYPE_LABEL] = choice.capacityType;
  if (choice.zone !== '') labels[_ZONE] = choice.zone;
  labels[_ARCH] = 'amd64';
  labels[_OS] = 'linux';
  labels[KARPENTER_NODEPOOL_LABEL] = choice.pool;
  const ref = pool.spec?.template?.spec?.nodeClassRef;
  if (ref?.group !== undefined && ref.kind !== undefined && ref.name !== undefined) labels[`${ref.group}/${ref.kind.toLowerCase()}`] = ref.name;
  return labels;
}

/** The per-type labels Karpenter's AWS and KWOK providers put on a node (family, size, cpu, memory...). */
function _typeLabels(name: string, shape: InstanceShape): Record<string, string> {
  const [family = '', size = ''] = name.split('.');
  const generation = /\d+/.exec(family)?.[0] ?? '';
  const memoryMiB = String(shape.memoryGiB * 1024);
  return {
    'karpenter.k8s.aws/instance-family': family,
    'karpenter.k8s.aws/instance-category': family.replace(/\d.*$/, ''),
    'karpenter.k8s.aws/instance-generation': generation,
    'karpenter.k8s.aws/instance-size': size,
    'karpenter.k8s.aws/instance-cpu': String(shape.vcpus),
    'karpenter.k8s.aws/instance-memory': memoryMiB,
    'karpenter.kwok.sh/instance-family': family,
    'karpenter.kwok.sh/instance-size': size,
    'karpenter.kwok.sh/instance-cpu': String(shape.vcpus),
    'karpenter.kwok.sh/instance-memory': memoryMiB,
  };
}

/** Whether the requirement allows the value (as a label value: absent is undefined). */
function _allows(r: NodePoolRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const n = Number(value);
      const bound = Number(values[0]);
      if (value === undefined || !Number.isFinite(n) || !Number.isFinite(bound)) return false;
      return r.operator === 'Gt' ? n > bound : n < bound;
    }
    default:
      return false;
  }
}

/**
 * A node of the offer as it joins: the labels above, the template's taints (startup taints go
 * once it is initialised), and as allocatable the smallest a node of the type in the cluster
 * shows, else the type's capacity less kube-reserved as the EKS AMI computes it (at least the
 * KWOK provider's 100m and 10Mi): an estimate on the safe side, so no plan counts on room a new
 * node lacks.
 */
function _offerNode(pool: KarpenterNodePool, labels: Readonly<Record<string, string>>, instanceType: string, shape: InstanceShape, capacityType: CapacityType, zone: string, nodes: readonly NodeView[]): NodeView {
  const capacity = resourcesFromList(shapeResourceList(shape));
  const seen = nodes.filter((n) => n.instanceType === instanceType && Object.keys(n.allocatable).length > 0);
  const allocatable = seen.length > 0 ? _smallest(seen.map((n) => n.allocatable)) : _reserved(capacity, shape);
  return {
    name: `${pool.metadata?.name ?? ''}-offer`,
    labels,
    annotations: {},
    taints: (pool.spec?.template?.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value === undefined ? {} : { value: t.value }), effect: t.effect })),
    allocatable,
    capacity,
    unschedulable: false,
    ready: true,
    capacityType,
    instanceType,
    zone,
    createdAt: 0,
  };
}

function _smallest(list: readonly Resources[]): Resources {
  const out: Record<string, number> = { ...(list[0] as Resources) };
  for (const r of list) for (const name in out) out[name] = Math.min(out[name] ?? 0, r[name] ?? 0);
  return out;
}

/** Capacity less kube-reserved (EKS AMI: 6% of the first core, 1% of the second, 0.5% of the next two, 0.25% above; 11Mi per pod + 255Mi) and the 100Mi eviction threshold. */
function _reserved(capacity: Resources, shape: InstanceShape): Resources {
  const cores = shape.vcpus;
  const cpuReserved = Math.max(100, Math.ceil(60 + (cores > 1 ? 10 : 0) + Math.max(0, Math.min(cores, 4) - 2) * 5 + Math.max(0, cores - 4) * 2.5));
  const memoryReserved = Math.max(10, 11 * shape.pods + 255 + 100) * 1024 * 1024;
  return { ...capacity, cpu: (capacity['cpu'] ?? 0) - cpuReserved, memory: (capacity['memory'] ?? 0) - memoryReserved };
}

/**
 * The NodeClaim that launches the choice from `pool` (see the module comment). `requests`: what
 * the pods planned onto it request; `launchedFor`: the `LAUNCH_ANNOTATION` value.
 */
export function nodeClaimFor(pool: KarpenterNodePool, choice: OfferChoice, name: string, requests: Readonly<Record<string, string>>, launchedFor: string): Record<string, unknown> {
  const template = pool.spec?.template ?? {};
  const spec = template.spec ?? {};
  const labels = { ...offerLabels(pool, choice) };
  // The node's own labels of the type and zone come from the provider, as for a provisioned claim.
  for (const key of Object.keys(labels)) if (_JUDGED.has(key) && key !== KARPENTER_NODEPOOL_LABEL) delete labels[key];
  const poolAnnotations = pool.metadata?.annotations ?? {};
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}), [LAUNCH_ANNOTATION]: launchedFor };
  for (const key of [_HASH, _HASH_VERSION]) if (poolAnnotations[key] !== undefined) annotations[key] = poolAnnotations[key];
  const pinned: Record<string, string> = { [_INSTANCE_TYPE]: choice.instanceType, [KARPENTER_CAPACITY_TYPE_LABEL]: choice.capacityType, ...(choice.zone === '' ? {} : { [_ZONE]: choice.zone }) };
  const requirements = [
    ...(spec.requirements ?? []).filter((r) => !(r.key in pinned)).map((r) => ({ key: r.key, operator: r.operator, ...(r.values === undefined ? {} : { values: [...r.values] }) })),
    ...Object.entries(pinned).map(([key, value]) => ({ key, operator: 'In', values: [value] })),
  ];
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodeClaim',
    metadata: {
      name,
      labels,
      annotations,
      ...(pool.metadata?.uid === undefined ? {} : { ownerReferences: [{ apiVersion: 'karpenter.sh/v1', kind: 'NodePool', name: choice.pool, uid: pool.metadata.uid }] }),
    },
    spec: {
      nodeClassRef: spec.nodeClassRef,
      requirements,
      ...(spec.taints === undefined ? {} : { taints: spec.taints }),
      ...(spec.startupTaints === undefined ? {} : { startupTaints: spec.startupTaints }),
      ...(spec.expireAfter === undefined ? {} : { expireAfter: spec.expireAfter }),
      ...(spec.terminationGracePeriod === undefined ? {} : { terminationGracePeriod: spec.terminationGracePeriod }),
      ...(Object.keys(requests).length === 0 ? {} : { resources: { requests } }),
    },
  };
}
