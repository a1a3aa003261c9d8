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
import type { FitState, NodeInfo } from './state.js';

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
export const podTopologySpread: FilterPlugin<'PodTopologySpread'> = {
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
 * kube-scheduler's system-default constraints (`defaultingType: System`), for a pod that sets none
 * of its own and has a `spreadSelector` (Services or a ReplicaSet, StatefulSet or
 * ReplicationController select it): spread over nodes with maxSkew 3 and over zones with maxSkew
 * 5, as a preference, counting every pod of its namespace the selector selects.
 */
export const SYSTEM_DEFAULT_SPREAD: readonly [SpreadDefault, SpreadDefault] = Object.freeze([
  { topologyKey: HOSTNAME_KEY, maxSkew: 3 },
  { topologyKey: ZONE_KEY, maxSkew: 5 },
]);


/** One of the pod's own ScheduleAnyway constraints, as the score uses it. */
interface _ScoreConstraint {
  readonly topologyKey: string;
  readonly hostname: boolean;
  readonly maxSkew: number;
  readonly selector?: LabelSelector;
}

interface _ScoreSpec {
  /** The pod's own ScheduleAnyway constraints: nodes without every key are left out (scored 0), as upstream. */
  readonly own: readonly _ScoreConstraint[];
  /** Set for a pod with no constraints of its own: the system defaults over the pods its `spreadSelector` selects. */
  readonly systemDefault?: LabelSelector;
}

/** What a pod spreads by depends on the pod alone: computed once per pod object. */
const _specs = new WeakMap<PodView, _ScoreSpec>();

/**
 * PodTopologySpread's Score: prefers nodes whose domains hold fewer of the pods a ScheduleAnyway
 * constraint selects, or, for a pod with no constraints of its own, of the pods its
 * `spreadSelector` selects ({@link SYSTEM_DEFAULT_SPREAD}). As upstream: each node scores the sum over constraints of
 * `matching × log(domains + 2) + maxSkew − 1`, rounded, counting per node for the hostname key
 * and per domain (over nodes that pass the pod's node affinity) for the others; then
 * NormalizeScore reverses the range so the emptiest domain scores 100, and a node without a key
 * of the pod's own constraints scores 0. Returned already normalized.
 *
 * The scheduler calls this for every pod on every feasible node: per-node data is read from
 * arrays indexed by `NodeInfo.index`, built once per node set (see `FitState.nodeMemo`).
 */
export const podTopologySpreadScore: ScorePlugin<'PodTopologySpread'> = {
  name: 'PodTopologySpread',
  score(state: FitState, pod: PodView, nodes: readonly NodeInfo[], out: Float64Array): void {
    const spec = _scoreSpec(pod);
    if (spec.systemDefault !== undefined) {
      _systemDefaultScores(state, pod, nodes, spec.systemDefault, out);
      return;
    }
    const constraints = spec.own;
    const n = nodes.length;
    const m = constraints.length;
    out.fill(0, 0, n);
    // Nothing to spread: every node 0, as when upstream's PreScore skips.
    if (m === 0) return;
    const ids = constraints.map((c) => _topologyDomains(state, c.topologyKey).ids);
    // Left out: nodes without every key of the pod's own constraints.
    const ignored = new Uint8Array(n);
    let considered = n;
    for (let i = 0; i < n; i++) {
      if (_hasEveryKey(ids, (nodes[i] as NodeInfo).index)) continue;
      ignored[i] = 1;
      considered--;
    }
    // Per constraint: matching pods per node (hostname) or per domain (the others), and the weight.
    const counts: Float64Array[] = [];
    const weights: number[] = [];
    for (let k = 0; k < m; k++) {
      const c = constraints[k] as _ScoreConstraint;
      const perNode = _countsByNode(state, pod, c.selector);
      if (c.hostname) {
        // Counted on the node itself, whatever its affinity (as upstream).
        counts.push(perNode);
        weights.push(Math.log(considered + 2));
        continue;
      }
      const domainIds = ids[k] as Int32Array;
      const { present, size } = _presentDomains(nodes, domainIds, _topologyDomains(state, c.topologyKey).count, ignored);
      counts.push(_countsPerDomain(state, pod, perNode, domainIds, present, ids));
      weights.push(Math.log(size + 2));
    }
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (let i = 0; i < n; i++) {
      if (ignored[i] === 1) continue;
      const index = (nodes[i] as NodeInfo).index;
      let raw = 0;
      for (let k = 0; k < m; k++) {
        const c = constraints[k] as _ScoreConstraint;
        const id = (ids[k] as Int32Array)[index] as number;
        raw += ((counts[k] as Float64Array)[c.hostname ? index : id] as number) * (weights[k] as number) + c.maxSkew - 1;
      }
      raw = Math.round(raw);
      out[i] = raw;
      if (raw < min) min = raw;
      if (raw > max) max = raw;
    }
    _normalizeInPlace(out, n, min, max, ignored);
  },
  skip: (_state, pod) => {
    const spec = _scoreSpec(pod);
    return spec.own.length === 0 && spec.systemDefault === undefined;
  },
};

/**
 * The score for the system defaults (hostname maxSkew 3, zone maxSkew 5, the pods the pod's
 * `spreadSelector` selects), the one almost every pod takes: the general arithmetic with the two
 * keys. As upstream for the system defaults only, a node without the zone label is not left out:
 * it scores on the hostname alone, and its missing zone counts as one more domain `""` in the
 * zone's weight.
 */
function _systemDefaultScores(state: FitState, pod: PodView, nodes: readonly NodeInfo[], selector: LabelSelector, out: Float64Array): void {
  const n = nodes.length;
  const hostIds = _topologyDomains(state, HOSTNAME_KEY).ids;
  const zones = _topologyDomains(state, ZONE_KEY);
  const counts = state.selectedCounts(pod.namespace, selector);
  const { present, size } = _presentDomains(nodes, zones.ids, zones.count, undefined);
  const perZone = _countsPerDomain(state, pod, counts, zones.ids, present, []);
  const hostWeight = Math.log(n + 2);
  const zoneWeight = Math.log(size + (_lacksDomain(nodes, zones, present) ? 1 : 0) + 2);
  const [host, zone] = SYSTEM_DEFAULT_SPREAD;
  let min = Number.MAX_SAFE_INTEGER;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const index = (nodes[i] as NodeInfo).index;
    let raw = 0;
    if ((hostIds[index] as number) >= 0) raw += (counts[index] as number) * hostWeight + host.maxSkew - 1;
    const zoneId = zones.ids[index] as number;
    if (zoneId >= 0) raw += (perZone[zoneId] as number) * zoneWeight + zone.maxSkew - 1;
    raw = Math.round(raw);
    out[i] = raw;
    if (raw < min) min = raw;
    if (raw > max) max = raw;
  }
  _normalizeInPlace(out, n, min, max, undefined);
}

/**
 * Whether a scored node lacks the key while no scored node has it set to `""`: upstream reads the
 * missing label as the value `""`, one more domain.
 */
function _lacksDomain(nodes: readonly NodeInfo[], domains: _TopologyDomains, present: Uint8Array): boolean {
  if (domains.emptyId >= 0 && present[domains.emptyId] === 1) return false;
  for (const node of nodes) if ((domains.ids[node.index] as number) < 0) return true;
  return false;
}

/** Whether the node at `index` carries every key whose domain ids are given. */
function _hasEveryKey(ids: readonly Int32Array[], index: number): boolean {
  for (const keyIds of ids) if ((keyIds[index] as number) < 0) return false;
  return true;
}

/** The domains of the scored nodes (those not `ignored`), marked in `present`, and how many. */
function _presentDomains(nodes: readonly NodeInfo[], domainIds: Int32Array, domainCount: number, ignored: Uint8Array | undefined): { present: Uint8Array; size: number } {
  const present = new Uint8Array(domainCount);
  let size = 0;
  for (let i = 0; i < nodes.length; i++) {
    if (ignored?.[i] === 1) continue;
    const id = domainIds[(nodes[i] as NodeInfo).index] as number;
    if (id >= 0 && present[id] === 0) {
      present[id] = 1;
      size++;
    }
  }
  return { present, size };
}

/**
 * Matching pods per domain, from their counts per node: only domains `present` among the scored
 * nodes, and only nodes that pass the pod's node affinity and carry every key of `allKeys`.
 */
function _countsPerDomain(state: FitState, pod: PodView, perNode: ArrayLike<number>, domainIds: Int32Array, present: Uint8Array, allKeys: readonly Int32Array[]): Float64Array {
  const perDomain = new Float64Array(present.length);
  const anyNode = pod.constraints.nodeSelector === undefined && pod.constraints.nodeAffinity?.required === undefined;
  for (let index = 0; index < perNode.length; index++) {
    const count = perNode[index] as number;
    if (count === 0) continue;
    const id = domainIds[index] as number;
    if (id < 0 || present[id] === 0 || !_hasEveryKey(allKeys, index)) continue;
    if (!anyNode && !matchesRequiredNodeAffinity(pod.constraints, (state.nodeInfoAt(index) as NodeInfo).view)) continue;
    perDomain[id] = (perDomain[id] as number) + count;
  }
  return perDomain;
}

/** Upstream's NormalizeScore on rounded raw scores in place: the lowest becomes 100; `ignored` nodes 0. */
function _normalizeInPlace(out: Float64Array, count: number, min: number, max: number, ignored: Uint8Array | undefined): void {
  for (let i = 0; i < count; i++) {
    out[i] = ignored?.[i] === 1 ? 0 : max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - (out[i] as number))) / max);
  }
}

let _lastPod: PodView | undefined;
let _lastSpec: _ScoreSpec | undefined;

/** What the score spreads by: the pod's own ScheduleAnyway constraints, else the system defaults. */
function _scoreSpec(pod: PodView): _ScoreSpec {
  // skip() then score() ask for the same pod in a row.
  if (pod === _lastPod && _lastSpec !== undefined) return _lastSpec;
  let spec = _specs.get(pod);
  if (spec === undefined) {
    const own = pod.constraints.topologySpread ?? [];
    if (own.length > 0) {
      spec = {
        own: own
          .filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway')
          .map((c) => ({ topologyKey: c.topologyKey, hostname: c.topologyKey === HOSTNAME_KEY, maxSkew: c.maxSkew, ...(c.labelSelector === undefined ? {} : { selector: c.labelSelector }) })),
      };
    } else if (pod.spreadSelector === undefined || _isEmptySelector(pod.spreadSelector)) {
      // Upstream: no default constraints when the default selector is empty.
      spec = { own: [] };
    } else {
      spec = { own: [], systemDefault: pod.spreadSelector };
    }
    _specs.set(pod, spec);
  }
  _lastPod = pod;
  _lastSpec = spec;
  return spec;
}

/** Each node's domain of one topology key, by `NodeInfo.index`: an id, or -1 without the label. */
interface _TopologyDomains {
  readonly ids: Int32Array;
  /** Every id is below it (an id no node holds may be among them): the length of an array by id. */
  readonly count: number;
  /** The id of the value `""`, or -1 when no node has the label set to it. */
  readonly emptyId: number;
}

/** The memo key of each topology key's domains, built once: asked for twice for every pod scored. */
const _domainsMemoKeys = new Map<string, string>();

function _topologyDomains(state: FitState, key: string): _TopologyDomains {
  let memoKey = _domainsMemoKeys.get(key);
  if (memoKey === undefined) _domainsMemoKeys.set(key, (memoKey = `PodTopologySpread\u0000domains\u0000${key}`));
  return state.nodeMemo(memoKey, () => _numberDomains(state, key));
}

/**
 * Per state and topology key, the numbering last built: each slot's node and labels object when
 * numbered, its id, and how many slots hold each id. A node joining or leaving drops every node
 * memo, and a 1,000-node simulation then numbers every node again for each pod it scores next:
 * nodes whose slot and labels are the objects they were keep their id, and only the others have
 * their label read (a lookup by a key that varies, slow across many label objects).
 */
interface _Numbering {
  readonly nodes: (NodeInfo | undefined)[];
  readonly labels: (Readonly<Record<string, string>> | undefined)[];
  ids: Int32Array;
  /** Value → id, for values some slot holds. */
  readonly byValue: Map<string, number>;
  /** By id: its value and how many slots hold it (0: free, reused first). */
  readonly values: string[];
  readonly users: number[];
  readonly freeIds: number[];
}

const _numberings = new WeakMap<FitState, Map<string, _Numbering>>();

function _numberDomains(state: FitState, key: string): _TopologyDomains {
  let byKey = _numberings.get(state);
  if (byKey === undefined) _numberings.set(state, (byKey = new Map<string, _Numbering>()));
  let numbering = byKey.get(key);
  if (numbering === undefined) {
    numbering = { nodes: [], labels: [], ids: new Int32Array(0), byValue: new Map(), values: [], users: [], freeIds: [] };
    byKey.set(key, numbering);
  }
  const bound = state.nodeIndexBound;
  if (numbering.ids.length < bound) {
    const ids = new Int32Array(Math.max(bound, numbering.ids.length * 2)).fill(-1);
    ids.set(numbering.ids);
    numbering.ids = ids;
  }
  const { nodes, labels, ids, byValue, values, users, freeIds } = numbering;
  for (let index = 0; index < ids.length; index++) {
    const node = index < bound ? state.nodeInfoAt(index) : undefined;
    const nodeLabels = node?.view.labels;
    if (node === nodes[index] && nodeLabels === labels[index]) continue;
    nodes[index] = node;
    labels[index] = nodeLabels;
    const old = ids[index] as number;
    if (old >= 0 && --(users[old] as number) === 0) {
      byValue.delete(values[old] as string);
      freeIds.push(old);
    }
    const value = nodeLabels?.[key];
    if (value === undefined) {
      ids[index] = -1;
      continue;
    }
    let id = byValue.get(value);
    if (id === undefined) {
      id = freeIds.pop() ?? values.length;
      byValue.set(value, id);
      values[id] = value;
      users[id] = 0;
    }
    users[id] = (users[id] as number) + 1;
    ids[index] = id;
  }
  // A copy: the memo keeps it while the numbering moves on. Ids of values no slot holds are
  // unused, not renumbered: the scores only sum and compare per domain.
  return { ids: ids.slice(0, bound), count: values.length, emptyId: byValue.get('') ?? -1 };
}

/** The placed, non-terminating pods a constraint's selector selects, per node by `NodeInfo.index`. */
function _countsByNode(state: FitState, pod: PodView, selector: LabelSelector | undefined): Float64Array {
  const perNode = new Float64Array(state.nodeIndexBound);
  // As the filter: an empty selector counts no pod; an absent one matches none.
  if (selector === undefined || _isEmptySelector(selector)) return perNode;
  state.forEachMatchingPod([pod.namespace], selector, (other, node) => {
    if (other.deletionRequestedAt !== undefined) return;
    const index = state.nodeInfo(node.name)?.index;
    if (index !== undefined) perNode[index] = (perNode[index] as number) + 1;
  });
  return perNode;
}
