/**
 * PodTopologySpread: a pod with DoNotSchedule spread constraints goes only where the skew (the
 * matching pods in the node's domain, plus the pod itself when it matches, less the fewest in any
 * domain) stays within maxSkew. As upstream with the default node inclusion policies, domains are
 * the values of the topology key over nodes that pass the pod's nodeSelector and required node
 * affinity and carry every constraint's key (taints are ignored); terminating pods do not count;
 * with fewer domains than minDomains the fewest counts as 0.
 */
import { matchesLabelSelector, matchesRequiredNodeAffinity } from '../../core/labels.js';
import type { LabelSelector, NodeView, PodView, TopologySpreadConstraint } from '../../core/model.js';
import { MAX_NODE_SCORE, type FilterPlugin, type ScorePlugin } from './plugin.js';
import { FIT_OK, fitFailure } from './result.js';
import type { FitResult } from './result.js';
import { SPREAD_CONTROLLER_KINDS, type FitState, type NodeInfo } from './state.js';

/** Reason when placing the pod on the node would exceed a constraint's maxSkew. */
export const SPREAD_REASON = "node(s) didn't match pod topology spread constraints";
/** Reason when the node lacks a constraint's topology key. */
export const SPREAD_MISSING_LABEL_REASON = `${SPREAD_REASON} (missing required label)`;

interface ConstraintState {
  readonly constraint: TopologySpreadConstraint;
  /** Topology value → matching pods in that domain; domains with none are absent. */
  readonly counts: ReadonlyMap<string, number>;
  /** The global minimum the skew is measured from. */
  readonly minMatch: number;
  readonly selfMatch: boolean;
}

interface SpreadDomains {
  /** Nodes whose pods count: they pass the pod's node affinity and carry every constraint key. */
  readonly eligible: ReadonlySet<string>;
  /** Per constraint, the number of distinct values of its key over the eligible nodes. */
  readonly domainCounts: readonly number[];
}

/** Rejects nodes where the pod would break one of its DoNotSchedule topology spread constraints. */
export const podTopologySpread: FilterPlugin = {
  name: 'PodTopologySpread',
  filter(state: FitState, pod: PodView, { view: node }: NodeInfo): FitResult {
    const constraints = state.podMemo(pod, 'PodTopologySpread', _preFilter);
    for (const c of constraints) {
      const value = node.labels[c.constraint.topologyKey];
      if (value === undefined) return fitFailure('PodTopologySpread', SPREAD_MISSING_LABEL_REASON);
      const skew = (c.counts.get(value) ?? 0) + (c.selfMatch ? 1 : 0) - c.minMatch;
      if (skew > c.constraint.maxSkew) return fitFailure('PodTopologySpread', SPREAD_REASON);
    }
    return FIT_OK;
  },
  skip: (_state, pod) => !(pod.constraints.topologySpread ?? []).some((c) => c.whenUnsatisfiable === 'DoNotSchedule'),
};

function _preFilter(state: FitState, pod: PodView): readonly ConstraintState[] {
  const constraints = (pod.constraints.topologySpread ?? []).filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
  if (constraints.length === 0) return [];
  const keys = constraints.map((c) => c.topologyKey);
  const domains = state.nodeMemo(`PodTopologySpread\u0000${_nodeAffinitySignature(pod)}\u0000${JSON.stringify(keys)}`, () =>
    _domains(state, pod, keys),
  );
  return constraints.map((constraint, i) => {
    const counts = new Map<string, number>();
    // Upstream counts no pod for an empty selector (while the pod itself still matches it).
    if (!_isEmptySelector(constraint.labelSelector)) {
      state.forEachMatchingPod([pod.namespace], constraint.labelSelector, (other, node) => {
        if (other.deletionRequestedAt !== undefined || !domains.eligible.has(node.name)) return;
        const value = node.labels[constraint.topologyKey] as string;
        counts.set(value, (counts.get(value) ?? 0) + 1);
      });
    }
    const domainCount = domains.domainCounts[i] ?? 0;
    let minMatch = domainCount === 0 ? Number.MAX_SAFE_INTEGER : counts.size < domainCount ? 0 : _min(counts.values());
    if (constraint.minDomains !== undefined && domainCount < constraint.minDomains) minMatch = 0;
    return { constraint, counts, minMatch, selfMatch: matchesLabelSelector(constraint.labelSelector, pod.labels) };
  });
}

function _domains(state: FitState, pod: PodView, keys: readonly string[]): SpreadDomains {
  const eligible = new Set<string>();
  const values = keys.map(() => new Set<string>());
  for (const name of state.nodeNames) {
    const node = state.node(name) as NodeView;
    if (!keys.every((key) => node.labels[key] !== undefined) || !matchesRequiredNodeAffinity(pod.constraints, node)) continue;
    eligible.add(name);
    keys.forEach((key, i) => values[i]?.add(node.labels[key] as string));
  }
  return { eligible, domainCounts: values.map((v) => v.size) };
}

/** A key for the pod's nodeSelector and required node affinity: pods of one workload share it. */
function _nodeAffinitySignature(pod: PodView): string {
  const nodeSelector = Object.entries(pod.constraints.nodeSelector ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([nodeSelector, pod.constraints.nodeAffinity?.required ?? []]);
}

function _isEmptySelector(selector: LabelSelector | undefined): boolean {
  return selector !== undefined && Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

function _min(values: Iterable<number>): number {
  let min = Number.MAX_SAFE_INTEGER;
  for (const value of values) if (value < min) min = value;
  return min;
}

// --- Score ----------------------------------------------------------------------------------

/** The label of the per-node domain, counted per node rather than per domain (as upstream). */
const HOSTNAME_KEY = 'kubernetes.io/hostname';
const ZONE_KEY = 'topology.kubernetes.io/zone';

/** One of the system-default spread constraints. */
export interface SpreadDefault {
  readonly topologyKey: string;
  readonly maxSkew: number;
}

/**
 * kube-scheduler's system-default constraints (`defaultingType: System`), for a pod of a
 * ReplicaSet or StatefulSet that sets none of its own: spread over nodes with maxSkew 3 and over
 * zones with maxSkew 5, as a preference.
 */
export const SYSTEM_DEFAULT_SPREAD: readonly [SpreadDefault, SpreadDefault] = Object.freeze([
  { topologyKey: HOSTNAME_KEY, maxSkew: 3 },
  { topologyKey: ZONE_KEY, maxSkew: 5 },
]);


interface _ScoreConstraint {
  readonly topologyKey: string;
  readonly hostname: boolean;
  readonly maxSkew: number;
  /** The pod's own ScheduleAnyway selector; undefined for a system default. */
  readonly selector?: LabelSelector;
  /** For a system default: the pods of this controller are the ones that count. */
  readonly controllerUid?: string;
}

interface _ScoreSpec {
  readonly constraints: readonly _ScoreConstraint[];
  /** The system defaults of this controller: scored by {@link _systemDefaultScores}. */
  readonly systemDefaultOf?: string;
  /** The pod's own constraints: nodes without every key are left out (scored 0), as upstream. */
  readonly requireAllKeys: boolean;
}

/** What a pod spreads by depends on the pod alone: computed once per pod object. */
const _specs = new WeakMap<PodView, _ScoreSpec>();

/**
 * PodTopologySpread's Score: prefers nodes whose domains hold fewer of the pods a ScheduleAnyway
 * constraint selects, or, for a pod with no constraints of its own, of its controller's pods
 * ({@link SYSTEM_DEFAULT_SPREAD}). As upstream: each node scores the sum over constraints of
 * `matching × log(domains + 2) + maxSkew − 1`, rounded, counting per node for the hostname key
 * and per domain (over nodes that pass the pod's node affinity) for the others; then
 * NormalizeScore reverses the range so the emptiest domain scores 100, and a node without a key
 * of the pod's own constraints scores 0. Returned already normalized.
 *
 * The scheduler calls this for every pod on every feasible node: per-node data is read from
 * arrays indexed by `NodeInfo.index`, built once per state (nodes never change in one).
 */
export const podTopologySpreadScore: ScorePlugin = {
  name: 'PodTopologySpread',
  score(state: FitState, pod: PodView, nodes: readonly NodeInfo[]): number[] {
    const spec = _scoreSpec(pod);
    if (spec.systemDefaultOf !== undefined) return _systemDefaultScores(state, pod, nodes, spec.systemDefaultOf);
    const n = nodes.length;
    const out = new Array<number>(n).fill(0);
    const { constraints, requireAllKeys } = spec;
    const m = constraints.length;
    // Nothing to spread: every node 0, as when upstream's PreScore skips.
    if (m === 0) return out;
    const ids: Int32Array[] = [];
    const counts: (Readonly<Int32Array> | Float64Array)[] = [];
    const weights: number[] = [];
    // Left out (a key of the pod's own constraints missing): only with requireAllKeys.
    let ignored: Uint8Array | undefined;
    let considered = n;
    for (const c of constraints) ids.push(_topologyDomains(state, c.topologyKey).ids);
    if (requireAllKeys) {
      ignored = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const index = (nodes[i] as NodeInfo).index;
        for (let k = 0; k < m; k++) {
          if (((ids[k] as Int32Array)[index] as number) >= 0) continue;
          ignored[i] = 1;
          considered--;
          break;
        }
      }
    }
    for (let k = 0; k < m; k++) {
      const c = constraints[k] as _ScoreConstraint;
      if (c.hostname) {
        // Counted on the node itself, whatever its affinity (as upstream).
        counts.push(c.controllerUid === undefined ? _countsByNode(state, pod, c) : (state.controllerCounts(c.controllerUid) ?? _NO_COUNTS));
        weights.push(Math.log(considered + 2));
        continue;
      }
      // Domains of the nodes being scored; matching pods count per domain, on nodes that pass
      // the pod's node affinity (and carry every key, for the pod's own constraints).
      const domainIds = ids[k] as Int32Array;
      const domains = _topologyDomains(state, c.topologyKey).count;
      const present = new Uint8Array(domains);
      let size = 0;
      for (let i = 0; i < n; i++) {
        if (ignored?.[i] === 1) continue;
        const id = domainIds[(nodes[i] as NodeInfo).index] as number;
        if (id >= 0 && present[id] === 0) {
          present[id] = 1;
          size++;
        }
      }
      const perDomain = new Float64Array(domains);
      _forEachMatchingNode(state, pod, c, (nodeName, count) => {
        const info = state.nodeInfo(nodeName);
        if (info === undefined) return;
        const id = domainIds[info.index] as number;
        if (id < 0 || present[id] === 0 || !matchesRequiredNodeAffinity(pod.constraints, info.view)) return;
        if (requireAllKeys && ids.some((other) => (other[info.index] as number) < 0)) return;
        perDomain[id] = (perDomain[id] as number) + count;
      });
      counts.push(perDomain);
      weights.push(Math.log(size + 2));
    }
    // Raw scores, rounded, with their range; then NormalizeScore.
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (let i = 0; i < n; i++) {
      if (ignored?.[i] === 1) continue;
      const index = (nodes[i] as NodeInfo).index;
      let raw = 0;
      for (let k = 0; k < m; k++) {
        const id = (ids[k] as Int32Array)[index] as number;
        if (id < 0) continue;
        const c = constraints[k] as _ScoreConstraint;
        raw += ((counts[k] as Int32Array)[c.hostname ? index : id] ?? 0) * (weights[k] as number) + c.maxSkew - 1;
      }
      raw = Math.round(raw);
      out[i] = raw;
      if (raw < min) min = raw;
      if (raw > max) max = raw;
    }
    for (let i = 0; i < n; i++) {
      if (ignored?.[i] === 1) out[i] = 0;
      else out[i] = max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - (out[i] as number))) / max);
    }
    return out;
  },
  skip: (_state, pod) => _scoreSpec(pod).constraints.length === 0,
};

const _NO_COUNTS = new Int32Array(0);

/**
 * The general score's special case for the system defaults (hostname maxSkew 3, zone maxSkew 5,
 * the controller's pods), the one almost every pod takes: the same arithmetic on typed arrays in
 * three passes over the nodes and one over the controller's counts.
 */
function _systemDefaultScores(state: FitState, pod: PodView, nodes: readonly NodeInfo[], controllerUid: string): number[] {
  const n = nodes.length;
  const out = new Array<number>(n);
  const hostIds = _topologyDomains(state, HOSTNAME_KEY).ids;
  const zones = _topologyDomains(state, ZONE_KEY);
  const zoneIds = zones.ids;
  const counts = state.controllerCounts(controllerUid);
  const present = new Uint8Array(zones.count);
  let zoneCount = 0;
  for (let i = 0; i < n; i++) {
    const id = zoneIds[(nodes[i] as NodeInfo).index] as number;
    if (id >= 0 && present[id] === 0) {
      present[id] = 1;
      zoneCount++;
    }
  }
  // Replicas per zone, on nodes that pass the pod's node affinity (all nodes when it has none).
  const perZone = new Float64Array(zones.count);
  if (counts !== undefined) {
    const anyNode = pod.constraints.nodeSelector === undefined && pod.constraints.nodeAffinity?.required === undefined;
    for (let index = 0; index < counts.length; index++) {
      const count = counts[index] as number;
      if (count === 0) continue;
      const id = zoneIds[index] as number;
      if (id < 0 || present[id] === 0) continue;
      if (!anyNode && !matchesRequiredNodeAffinity(pod.constraints, (state.nodeInfoAt(index) as NodeInfo).view)) continue;
      perZone[id] = (perZone[id] as number) + count;
    }
  }
  const hostWeight = Math.log(n + 2);
  const zoneWeight = Math.log(zoneCount + 2);
  const [host, zone] = SYSTEM_DEFAULT_SPREAD;
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const index = (nodes[i] as NodeInfo).index;
    let raw = 0;
    if ((hostIds[index] as number) >= 0) raw += (counts === undefined ? 0 : (counts[index] as number)) * hostWeight + host.maxSkew - 1;
    const zoneId = zoneIds[index] as number;
    if (zoneId >= 0) raw += (perZone[zoneId] as number) * zoneWeight + zone.maxSkew - 1;
    raw = Math.round(raw);
    out[i] = raw;
    if (raw < min) min = raw;
    if (raw > max) max = raw;
  }
  for (let i = 0; i < n; i++) out[i] = max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - (out[i] as number))) / max);
  return out;
}

let _lastPod: PodView | undefined;
let _lastSpec: _ScoreSpec | undefined;

/** The constraints the score uses: the pod's ScheduleAnyway ones, else the system defaults. */
function _scoreSpec(pod: PodView): _ScoreSpec {
  // skip() then score() ask for the same pod in a row.
  if (pod === _lastPod && _lastSpec !== undefined) return _lastSpec;
  let spec = _specs.get(pod);
  if (spec !== undefined) {
    _lastPod = pod;
    _lastSpec = spec;
    return spec;
  }
  const own = pod.constraints.topologySpread ?? [];
  const controller = pod.controllerRef;
  if (own.length > 0) {
    const constraints = own
      .filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway')
      .map((c) => ({ topologyKey: c.topologyKey, hostname: c.topologyKey === HOSTNAME_KEY, maxSkew: c.maxSkew, ...(c.labelSelector === undefined ? {} : { selector: c.labelSelector }) }));
    spec = { constraints, requireAllKeys: true };
  } else if (controller === undefined || controller.uid === '' || !SPREAD_CONTROLLER_KINDS.has(controller.kind)) {
    spec = { constraints: [], requireAllKeys: false };
  } else {
    spec = {
      constraints: SYSTEM_DEFAULT_SPREAD.map((c) => ({ ...c, hostname: c.topologyKey === HOSTNAME_KEY, controllerUid: controller.uid })),
      requireAllKeys: false,
      systemDefaultOf: controller.uid,
    };
  }
  _specs.set(pod, spec);
  _lastPod = pod;
  _lastSpec = spec;
  return spec;
}

/** Each node's domain of one topology key, by `NodeInfo.index`: an id, or -1 without the label. */
interface _TopologyDomains {
  readonly ids: Int32Array;
  /** How many distinct values (ids run from 0 to count − 1). */
  readonly count: number;
}

function _topologyDomains(state: FitState, key: string): _TopologyDomains {
  return state.nodeMemo(`PodTopologySpread\u0000domains\u0000${key}`, () => {
    const names = state.nodeNames;
    const ids = new Int32Array(names.length).fill(-1);
    const byValue = new Map<string, number>();
    for (let i = 0; i < names.length; i++) {
      const value = state.node(names[i] as string)?.labels[key];
      if (value === undefined) continue;
      let id = byValue.get(value);
      if (id === undefined) byValue.set(value, (id = byValue.size));
      ids[i] = id;
    }
    return { ids, count: byValue.size };
  });
}

/** The pods a selector constraint selects, per node by `NodeInfo.index`. */
function _countsByNode(state: FitState, pod: PodView, c: _ScoreConstraint): Float64Array {
  const perNode = new Float64Array(state.nodeNames.length);
  _forEachMatchingNode(state, pod, c, (nodeName, count) => {
    const info = state.nodeInfo(nodeName);
    if (info !== undefined) perNode[info.index] = (perNode[info.index] as number) + count;
  });
  return perNode;
}

/** Calls `visit(nodeName, count)` for the placed, non-terminating pods a score constraint selects. */
function _forEachMatchingNode(state: FitState, pod: PodView, c: _ScoreConstraint, visit: (nodeName: string, count: number) => void): void {
  if (c.controllerUid !== undefined) {
    state.forEachNodeOfController(c.controllerUid, visit);
    return;
  }
  // As the filter: an empty selector counts no pod; an absent one matches none.
  if (c.selector === undefined || _isEmptySelector(c.selector)) return;
  state.forEachMatchingPod([pod.namespace], c.selector, (other, node) => {
    if (other.deletionRequestedAt === undefined) visit(node.name, 1);
  });
}
