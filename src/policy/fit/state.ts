/**
 * The mutable working view a planner schedules against, like kube-scheduler's cache: per node its
 * view, the resources its pods request and its pods, plus the indexes the affinity and spread
 * filters query. `assume` and `forget` update everything incrementally, so a planner can try a move
 * and roll it back for the cost of the pod's own labels and terms; `addNode`, `removeNode` and
 * `updateNode` change the node set the same way, as the cache's node events do.
 */
import type { Labels } from '../../core/labels.js';
import type { ClusterSnapshot, LabelSelector, NodeView, PodAffinityTerm, PodView, Resources } from '../../core/model.js';
import type { PriceTable } from '../../core/pricing.js';
import { fixedTermNamespaces, NAMESPACE_NAME_LABEL, termSelectsNamespace } from './affinity-term.js';
import type { NamespaceLabels } from './affinity-term.js';
import { AntiAffinityIndex } from './anti-affinity-index.js';
import type { AntiAffinityGroup } from './anti-affinity-index.js';
import { PodLabelIndex } from './pod-index.js';

/** The cpu (millicores) the scheduler assumes for scoring when a pod requests none. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** The memory (bytes) the scheduler assumes for scoring when a pod requests none. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Cpu and memory requests as the scheduler's resource scores count them: zero becomes the default. */
export interface NonZeroRequests {
  readonly cpu: number;
  readonly memory: number;
}

/** Options of `FitState.fromSnapshot`. */
export interface FitStateOptions {
  /** Prices for the `CostAware` score; without them it prefers spot nodes and nothing else. */
  readonly prices?: PriceTable;
  /**
   * Namespace labels, for pod affinity terms with a `namespaceSelector`. Every namespace also
   * carries `kubernetes.io/metadata.name: <name>`, as the API server sets it, so selectors on that
   * label work without them.
   */
  readonly namespaceLabels?: Readonly<Record<string, Labels>>;
}

/**
 * A node with what its pods take, as the scheduler framework's NodeInfo: what filter and score
 * plugins receive, read in place (they read it for hundreds of nodes per pod). One object per
 * node for the life of the state, updated in place by `assume` and `forget`, so a caller may keep
 * it rather than look it up again (a clone has its own).
 */
export interface NodeInfo {
  readonly view: NodeView;
  /**
   * The node's slot, below `FitState.nodeIndexBound`: plugins index per-node arrays with it. Fixed
   * while the node is in the state; a removed node's slot goes to the next node added.
   */
  readonly index: number;
  /** The sum of the requests of the pods on the node. */
  readonly requested: Resources;
  /** Cpu requested as the resource scores count it (a pod requesting none counts the default). */
  readonly nonZeroCpu: number;
  /** Memory requested as the resource scores count it. */
  readonly nonZeroMemory: number;
  /** The pods on the node, in no particular order. */
  readonly pods: readonly PodView[];
  /** Cordoned in this state by `cordon` (the node's own `unschedulable` is in its view). */
  readonly cordoned: boolean;
}

interface NodeSlot extends NodeInfo {
  /** Replaced whole by `updateNode` and `setTaints`. */
  view: NodeView;
  index: number;
  /** A node holds at most a few hundred pods: an array beats a map to build, copy and scan. */
  readonly pods: PodView[];
  /** Changed in place by `#add` and `#remove`; `clone` copies it. */
  readonly requested: Record<string, number>;
  nonZeroCpu: number;
  nonZeroMemory: number;
  cordoned: boolean;
}

/** A pod's memos at one version and set of excluded pods; reset in place when either changes. */
interface PodMemo {
  version: number;
  excluded: string;
  readonly data: Map<string, unknown>;
}

/**
 * A mutable working view of the cluster for planning. Pods move with `assume` and `forget`; nodes
 * come and go with `addNode` and `removeNode` and change with `updateNode`.
 *
 * @example
 * ```ts
 * // Does every pod of node "n1" fit elsewhere, together? Plan on a copy, cordoned as a drain would.
 * const plan = FitState.fromSnapshot(snapshot, { prices }).clone();
 * plan.cordon('n1');
 * for (const pod of plan.podsOn('n1')) {
 *   const choice = selectNode(plan, pod, DEFAULT_PROFILE); // the pod does not count against itself
 *   if (!choice.ok) return { fits: false, reason: choice.reason };
 *   plan.move(pod, choice.nodeName);
 * }
 * ```
 */
export class FitState {
  readonly #slots: Map<string, NodeSlot>;
  /**
   * Sorted; replaced, never changed in place, so a caller iterating it is not disturbed. Undefined
   * after the node set changed, until next read: a planner's trial nodes (added, checked, removed:
   * Cluster Autoscaler's template and upcoming nodes every scan) then copy no list of every name.
   */
  #nodeNames: readonly string[] | undefined;
  /** The slots by `NodeInfo.index`; a removed node leaves a hole until its index is reused. */
  readonly #byIndex: (NodeSlot | undefined)[];
  /** Indexes of removed nodes, reused last-freed first. */
  readonly #freeIndexes: number[];
  /** The length of the per-node arrays the state keeps (controller counts), at least `#byIndex.length`; doubles as nodes come. */
  #indexCapacity: number;
  readonly #placement: Map<string, NodeSlot>;
  /**
   * A uid `#placement` was last found not to hold, until a pod of that uid is placed: the
   * scheduler filters a pending pod chunk after chunk of nodes and then binds it, and each step
   * asks whether the pod is placed; in a map of every placed pod that lookup is a cache miss.
   */
  #unplacedUid: string | undefined;
  readonly #podIndex: PodLabelIndex;
  /** Built at the first inter-pod affinity check, then kept up to date. */
  #antiAffinity: AntiAffinityIndex | undefined;
  /**
   * Data derived from the nodes' labels and slots, shared with clones until either changes its
   * nodes: then that state starts a new map, and the others keep theirs.
   */
  #nodeMemo: Map<string, unknown>;
  /**
   * The node memo from before each `addNode` not yet undone, newest last: removing the node added
   * last restores its memo, so a planner's trial nodes (added, then removed in reverse order, as
   * Cluster Autoscaler's template and upcoming nodes are) do not make the scheduler rebuild every
   * memo of the real nodes. Any other change of the node set empties it.
   */
  readonly #memoUndo: { readonly name: string; readonly memo: Map<string, unknown> }[] = [];
  readonly #podMemo = new WeakMap<PodView, PodMemo>();
  #version = 0;
  /** The uids of the pods `withoutPod` has taken out, while it runs. */
  #excluded = '';
  readonly #prices: PriceTable | undefined;
  readonly #givenNamespaceLabels: Readonly<Record<string, Labels>>;
  /** Namespace labels as selectors see them; static, so shared with clones. */
  readonly #namespaceLabelCache: Map<string, Labels>;
  /** Placed pods per namespace, built when a namespace selector first needs the namespaces. */
  #namespaceCounts: Map<string, number> | undefined;
  /** Placed pods with pod-affinity terms InterPodAffinity's score reads (see `scoringAffinityPods`), counted at first use. */
  #scoringAffinityPods: number | undefined;
  /**
   * Placed, non-terminating pods per node (by `NodeInfo.index`) of each `matchLabels`-only
   * selector asked for by `selectedCounts`, kept up to date on every assume and forget: the
   * system-default spread asks for the same few selectors on every pod it scores.
   */
  readonly #selected = new _SelectedCounts();
  /**
   * Changes to the label index and the kept selector counts not applied yet, by pod object: the
   * `NodeInfo.index` it is to be taken off and the one it is to be put on (see `_pendingOf`).
   * Applied before either is read (`#settleIndexes`); a forget and an assume of the same pod on
   * the same node cancel out, so a planner's trial that is undone (Cluster Autoscaler's removal
   * simulation: off its node, onto another, back, for every pod it moves, every scan) leaves
   * them untouched instead of updating a bucket per label four times.
   */
  readonly #pendingIndexes = new Map<PodView, number>();
  readonly #namespaceLabelsOf: NamespaceLabels = (namespace) => this.namespaceLabels(namespace);

  private constructor(
    slots: Map<string, NodeSlot>,
    byIndex: (NodeSlot | undefined)[],
    freeIndexes: number[],
    indexCapacity: number,
    placement: Map<string, NodeSlot>,
    podIndex: PodLabelIndex | undefined,
    antiAffinity: AntiAffinityIndex | undefined,
    nodeMemo: Map<string, unknown>,
    prices: PriceTable | undefined,
    namespaceLabels: Readonly<Record<string, Labels>>,
    namespaceLabelCache: Map<string, Labels>,
  ) {
    this.#slots = slots;
    this.#nodeNames = [...slots.keys()].sort();
    this.#byIndex = byIndex;
    this.#freeIndexes = freeIndexes;
    this.#indexCapacity = indexCapacity;
    this.#placement = placement;
    const source = (visit: (pod: PodView) => void): void => {
      for (const slot of slots.values()) for (const pod of slot.pods) visit(pod);
    };
    const nodeOf = (pod: PodView): NodeView => (placement.get(pod.uid) as NodeSlot).view;
    this.#podIndex = podIndex?.clone(source, nodeOf) ?? new PodLabelIndex(source, nodeOf);
    this.#antiAffinity = antiAffinity?.clone();
    this.#nodeMemo = nodeMemo;
    this.#prices = prices;
    this.#givenNamespaceLabels = namespaceLabels;
    this.#namespaceLabelCache = namespaceLabelCache;
  }

  /**
   * Builds the working view of a snapshot. Pods count on their node unless Succeeded or Failed;
   * terminating pods still count, as in the scheduler's cache. Pods bound to a node the snapshot
   * does not hold are left out, as the scheduler leaves them out.
   */
  static fromSnapshot(snapshot: ClusterSnapshot, options: FitStateOptions = {}): FitState {
    // One map operation per pod (set, not has then set): at 150,000 pods the placement map is
    // most of the build. Uids are unique in a cluster; when two pods share one, the map ends up
    // smaller than the pods placed, and the build is done again keeping the first of them.
    let built = _placePods(snapshot, false);
    if (built.placement.size !== built.placed) built = _placePods(snapshot, true);
    const { slots, placement } = built;
    // Slots in name order at first, so a state that never changes its nodes indexes them as sorted.
    const byIndex = [...slots.keys()].sort().map((name, i) => {
      const slot = slots.get(name) as NodeSlot;
      slot.index = i;
      return slot;
    });
    const capacity = Math.max(_MIN_INDEX_CAPACITY, byIndex.length);
    return new FitState(slots, byIndex, [], capacity, placement, undefined, undefined, new Map(), options.prices, options.namespaceLabels ?? {}, new Map());
  }

  /** Node names, sorted: the order every node iteration of the fit plugins follows. */
  get nodeNames(): readonly string[] {
    this.#nodeNames ??= [...this.#slots.keys()].sort();
    return this.#nodeNames;
  }

  /**
   * One more than the highest `NodeInfo.index` in use: the length a per-node array indexed by
   * `NodeInfo.index` needs (holes of removed nodes included).
   */
  get nodeIndexBound(): number {
    return this.#byIndex.length;
  }

  /** Changes on every change of pods or nodes: a cache key for derived data. */
  get version(): number {
    return this.#version;
  }

  /** The price table the state was built with, if any. */
  get prices(): PriceTable | undefined {
    return this.#prices;
  }

  /** The node's view, or undefined when the state does not hold it. */
  node(nodeName: string): NodeView | undefined {
    return this.#slots.get(nodeName)?.view;
  }

  /**
   * The sum of the requests of the pods on the node (empty for an unknown node), read in place:
   * valid until the state next changes. A resource whose pods all left may stay at 0.
   */
  requested(nodeName: string): Resources {
    return this.#slots.get(nodeName)?.requested ?? {};
  }

  /** The node's cpu and memory requests as the resource scores count them (zero requests count as defaults). */
  nonZeroRequested(nodeName: string): NonZeroRequests {
    const slot = this.#slots.get(nodeName);
    return { cpu: slot?.nonZeroCpu ?? 0, memory: slot?.nonZeroMemory ?? 0 };
  }

  /** The node whose `NodeInfo.index` is `index`, as `nodeInfo` gives it; undefined for a free slot. */
  nodeInfoAt(index: number): NodeInfo | undefined {
    return this.#byIndex[index];
  }

  /** The node and its usage as the plugins receive them, read in place, or undefined for an unknown node. */
  nodeInfo(nodeName: string): NodeInfo | undefined {
    return this.#slots.get(nodeName);
  }

  /** The number of pods on the node. */
  podCount(nodeName: string): number {
    return this.#slots.get(nodeName)?.pods.length ?? 0;
  }

  /** The pods on the node, in no particular order. */
  podsOn(nodeName: string): readonly PodView[] {
    const slot = this.#slots.get(nodeName);
    return slot === undefined ? [] : [...slot.pods];
  }

  /** The node the pod is placed on in this state, or undefined when it is not placed. */
  nodeOf(pod: PodView | string): string | undefined {
    return this.#placement.get(typeof pod === 'string' ? pod : pod.uid)?.view.name;
  }

  /** Whether the node was cordoned in this state (`cordon`); the node's own `unschedulable` is apart. */
  isCordoned(nodeName: string): boolean {
    return this.#slots.get(nodeName)?.cordoned ?? false;
  }

  /**
   * Marks the node unschedulable for planning, as a drain would cordon it: the NodeUnschedulable
   * filter then rejects it for pods that do not tolerate `node.kubernetes.io/unschedulable`.
   */
  cordon(nodeName: string): void {
    this.#slot(nodeName, 'cordon').cordoned = true;
    this.#version++;
  }

  /** Undoes `cordon`. */
  uncordon(nodeName: string): void {
    this.#slot(nodeName, 'uncordon').cordoned = false;
    this.#version++;
  }

  /**
   * Replaces the node's taints, as a node update carrying new taints does in the scheduler's cache
   * (Cluster Autoscaler's soft `DeletionCandidateOfClusterAutoscaler` taint comes and goes on a
   * node that stays). Labels and resources stay, so data derived from them stays valid.
   */
  setTaints(nodeName: string, taints: NodeView['taints']): void {
    const slot = this.#slot(nodeName, 'set the taints of');
    slot.view = { ...slot.view, taints };
    this.#version++;
  }

  /**
   * Adds an empty node, as the scheduler cache's AddNode: it takes a free slot (`NodeInfo.index`)
   * and joins `nodeNames` in name order. Throws when the state already holds a node of that name.
   */
  addNode(view: NodeView): void {
    if (this.#slots.has(view.name)) throw new Error(`Cannot add node "${view.name}": the state already holds it`);
    const memo = this.#nodeMemo;
    const index = this.#freeIndexes.pop() ?? this.#byIndex.length;
    const slot: NodeSlot = { view, index, pods: [], requested: {}, nonZeroCpu: 0, nonZeroMemory: 0, cordoned: false };
    this.#slots.set(view.name, slot);
    this.#byIndex[index] = slot;
    if (index >= this.#indexCapacity) this.#growIndexes(index + 1);
    this.#nodeNames = undefined;
    this.#nodesChanged();
    const undo = this.#memoUndo;
    undo.push({ name: view.name, memo });
    if (undo.length > _MEMO_UNDO_DEPTH) undo.shift();
  }

  /**
   * Removes the node, as the scheduler cache's RemoveNode, and takes the pods still placed on it
   * out of the state (they can count nowhere else). Throws for an unknown node.
   */
  removeNode(nodeName: string): void {
    const slot = this.#slot(nodeName, 'remove');
    const undone = this.#memoUndo.at(-1)?.name === nodeName ? this.#memoUndo.pop() : undefined;
    while (slot.pods.length > 0) this.#remove(slot.pods[slot.pods.length - 1] as PodView, slot);
    this.#slots.delete(nodeName);
    this.#byIndex[slot.index] = undefined;
    this.#freeIndexes.push(slot.index);
    this.#nodeNames = undefined;
    this.#nodesChanged();
    // The node set is what it was before the node came, each node in the slot it had then: what
    // was derived from it then holds again (a larger `nodeIndexBound` leaves no present node out).
    if (undone !== undefined) this.#nodeMemo = undone.memo;
    else this.#memoUndo.length = 0;
  }

  /**
   * Replaces the node's view (labels, taints, unschedulable, readiness, allocatable), as a node
   * update does in the scheduler's cache; its pods stay. The indexes that hold the node's labels
   * (pods' anti-affinity terms by topology value, topology domains) follow. Throws for an unknown node.
   */
  updateNode(view: NodeView): void {
    const slot = this.#slot(view.name, 'update');
    const before = slot.view;
    if (_sameLabels(before.labels, view.labels)) {
      slot.view = view;
      this.#version++;
      return;
    }
    if (this.#antiAffinity !== undefined) for (const pod of slot.pods) this.#antiAffinity.remove(pod, before);
    slot.view = view;
    if (this.#antiAffinity !== undefined) for (const pod of slot.pods) this.#antiAffinity.add(pod, view);
    this.#nodesChanged();
    this.#memoUndo.length = 0;
  }

  /**
   * Places the pod on the node, as the scheduler cache's AssumePod does. Throws when the node is
   * unknown or the pod is already placed: that is a planner bug, not a scheduling outcome.
   */
  assume(pod: PodView, nodeName: string): void {
    const slot = this.#slots.get(nodeName);
    if (slot === undefined) {
      throw new Error(`Cannot assume pod "${_podName(pod)}" on node "${nodeName}": the node is not in the state`);
    }
    const current = this.#placedSlot(pod.uid);
    if (current !== undefined) {
      throw new Error(`Cannot assume pod "${_podName(pod)}" on node "${nodeName}": it is already on node "${current.view.name}"`);
    }
    this.#add(pod, slot);
    this.#version++;
  }

  /** Takes the pod off its node, exactly undoing `assume`. Throws when the pod is not placed. */
  forget(pod: PodView | string): void {
    const uid = typeof pod === 'string' ? pod : pod.uid;
    const slot = this.#placement.get(uid);
    let at = -1;
    if (slot !== undefined) {
      // Given the placed object itself (a planner undoing its own move), found by identity
      // without reading the uid of each pod on the node; else by uid.
      if (typeof pod !== 'string') at = slot.pods.indexOf(pod);
      if (at < 0) at = _indexOfUid(slot.pods, uid);
    }
    if (slot === undefined || at < 0) {
      throw new Error(`Cannot forget pod ${typeof pod === 'string' ? `with uid "${uid}"` : `"${_podName(pod)}"`}: it is not placed in the state`);
    }
    this.#remove(slot.pods[at] as PodView, slot, at);
    this.#version++;
  }

  /** Moves a placed pod to another node (`forget` then `assume`); throws before changing anything for an unknown node. */
  move(pod: PodView, nodeName: string): void {
    if (!this.#slots.has(nodeName)) {
      throw new Error(`Cannot move pod "${_podName(pod)}" to node "${nodeName}": the node is not in the state`);
    }
    this.forget(pod);
    this.assume(pod, nodeName);
  }

  /** An independent copy: changes to either leave the other as it was. */
  clone(): FitState {
    this.#settleIndexes();
    const slots = new Map<string, NodeSlot>();
    const byIndex: (NodeSlot | undefined)[] = new Array<NodeSlot | undefined>(this.#byIndex.length);
    const placement = new Map<string, NodeSlot>();
    for (const [name, slot] of this.#slots) {
      const copy: NodeSlot = { ...slot, pods: [...slot.pods], requested: { ...slot.requested } };
      slots.set(name, copy);
      byIndex[copy.index] = copy;
      for (const pod of copy.pods) placement.set(pod.uid, copy);
    }
    // The indexes hold pods and node views, immutable and shared; the constructor copies their structure.
    const copy = new FitState(
      slots,
      byIndex,
      [...this.#freeIndexes],
      this.#indexCapacity,
      placement,
      this.#podIndex,
      this.#antiAffinity,
      this.#nodeMemo,
      this.#prices,
      this.#givenNamespaceLabels,
      this.#namespaceLabelCache,
    );
    copy.#namespaceCounts = this.#namespaceCounts === undefined ? undefined : new Map(this.#namespaceCounts);
    copy.#scoringAffinityPods = this.#scoringAffinityPods;
    copy.#selected.copyFrom(this.#selected);
    copy.#version = this.#version;
    return copy;
  }

  /**
   * Runs `evaluate` with `pod` taken off its node when it is placed, and puts it back after. A pod
   * that a planner considers moving must not count against itself: its own requests, its labels in
   * spread counts, its own anti-affinity. The fit functions call this themselves.
   */
  withoutPod<T>(pod: PodView, evaluate: () => T): T {
    const slot = this.#placedSlot(pod.uid);
    if (slot === undefined) return evaluate();
    const at = _indexOfUid(slot.pods, pod.uid);
    if (at < 0) return evaluate();
    const placed = slot.pods[at] as PodView;
    // Taking the pod out and back leaves the version as it is; memos key on the version and the
    // excluded pods, so those made while the pod is out stay apart from those made while it is in.
    const excluded = this.#excluded;
    this.#remove(placed, slot, at);
    this.#excluded = `${excluded}\u0000${pod.uid}`;
    try {
      return evaluate();
    } finally {
      this.#add(placed, slot);
      this.#excluded = excluded;
    }
  }

  /**
   * The placed, non-terminating pods of `namespace` that `selector` selects, counted by
   * `NodeInfo.index`: read-only, valid until the state next changes. A selector of `matchLabels`
   * only is counted once and then kept up to date (what the system-default spread asks for on
   * every pod); others are counted on each call.
   */
  selectedCounts(namespace: string, selector: LabelSelector): ArrayLike<number> {
    this.#settleIndexes();
    const cached = this.#selected.get(namespace, selector);
    if (cached !== undefined) return cached;
    const counts = new Int32Array(this.#indexCapacity);
    this.forEachMatchingPod([namespace], selector, (other, node) => {
      if (other.deletionRequestedAt !== undefined) return;
      const index = this.#slots.get(node.name)?.index;
      if (index !== undefined) counts[index] = (counts[index] as number) + 1;
    });
    this.#selected.keep(namespace, selector, counts);
    return counts;
  }

  /** Calls `visit` for every placed pod in one of `namespaces` whose labels match `selector` (undefined matches none). */
  forEachMatchingPod(namespaces: readonly string[], selector: LabelSelector | undefined, visit: (pod: PodView, node: NodeView) => void): void {
    this.#settleIndexes();
    for (const namespace of namespaces) this.#podIndex.forEachMatching(namespace, selector, visit);
  }

  /** Calls `visit` for every placed pod that a pod affinity term of `owner` selects (by namespaces and labels). */
  forEachPodMatchingTerm(owner: PodView, term: PodAffinityTerm, visit: (pod: PodView, node: NodeView) => void): void {
    const fixed = fixedTermNamespaces(owner, term);
    if (fixed !== undefined) {
      this.forEachMatchingPod(fixed, term.labelSelector, visit);
      return;
    }
    if (term.labelSelector === undefined) return;
    this.#settleIndexes();
    for (const namespace of this.#namespaces().keys()) {
      if (termSelectsNamespace(owner, term, namespace, this.#namespaceLabelsOf)) this.#podIndex.forEachMatching(namespace, term.labelSelector, visit);
    }
  }

  /** Calls `visit` for every distinct required anti-affinity term of placed pods that selects `pod`. */
  forEachAntiAffinityAgainst(pod: PodView, visit: (group: AntiAffinityGroup) => void): void {
    this.#antiAffinityIndex().forEachMatching(pod, this.#namespaceLabelsOf, visit);
  }

  /**
   * How many placed pods carry pod-affinity terms that score other pods (required or preferred
   * affinity, preferred anti-affinity): InterPodAffinity's score reads only those pods when the pod
   * it scores has no preferred terms of its own, and nothing when there are none (upstream's
   * `HavePodsWithAffinityList`). Counted at the first call, then kept up to date.
   */
  scoringAffinityPods(): number {
    if (this.#scoringAffinityPods === undefined) {
      let count = 0;
      for (const slot of this.#slots.values()) for (const pod of slot.pods) if (hasScoringAffinityTerms(pod)) count++;
      this.#scoringAffinityPods = count;
    }
    return this.#scoringAffinityPods;
  }

  /** A namespace's labels as namespace selectors see them: those given, plus `kubernetes.io/metadata.name`. */
  namespaceLabels(namespace: string): Labels {
    let labels = this.#namespaceLabelCache.get(namespace);
    if (labels === undefined) {
      labels = { ...this.#givenNamespaceLabels[namespace], [NAMESPACE_NAME_LABEL]: namespace };
      this.#namespaceLabelCache.set(namespace, labels);
    }
    return labels;
  }

  /**
   * Builds now the indexes the affinity and spread filters otherwise build at first use: the
   * placed pods' anti-affinity terms and, for each of `labelKeys`, pods by that label (with
   * `everyPod`, also pods and their count by namespace alone, which only selectors without a
   * `matchLabels` or `In`/`Exists` requirement and namespace selectors need). Takes their one-off
   * cost out of a timed section.
   */
  prepareIndexes(labelKeys: Iterable<string>, everyPod = false): void {
    this.#antiAffinityIndex();
    if (everyPod) this.#namespaces();
    this.#settleIndexes();
    this.#podIndex.prepare(labelKeys, everyPod);
  }

  /**
   * Memoizes data derived from the nodes' labels and slots alone, until the state adds, removes or
   * relabels a node (taint, readiness and resource changes keep it); shared with clones.
   * @internal For the fit plugins.
   */
  nodeMemo<T>(key: string, compute: () => T): T {
    const known = this.#nodeMemo.get(key);
    if (known !== undefined || this.#nodeMemo.has(key)) return known as T;
    const value = compute();
    this.#nodeMemo.set(key, value);
    return value;
  }

  /**
   * Memoizes per-pod data (a plugin's PreFilter result) until the state next changes, so filtering
   * one pod against every node computes it once. `compute` is called with this state and the pod
   * (a module function, not a closure made per node).
   * @internal For the fit plugins.
   */
  podMemo<T>(pod: PodView, key: string, compute: (state: FitState, pod: PodView) => T): T {
    let memo = this.#podMemo.get(pod);
    if (memo === undefined) {
      memo = { version: this.#version, excluded: this.#excluded, data: new Map() };
      this.#podMemo.set(pod, memo);
    } else if (memo.version !== this.#version || memo.excluded !== this.#excluded) {
      // Emptied and reused, not replaced: a planner's trial changes the version at every move,
      // and each check of a pod after one would otherwise make a new map.
      memo.version = this.#version;
      memo.excluded = this.#excluded;
      memo.data.clear();
    }
    const known = memo.data.get(key);
    if (known !== undefined || memo.data.has(key)) return known as T;
    const value = compute(this, pod);
    // Kept only if `compute` left the memo as it found it (a nested call for the pod under other
    // excluded pods resets it).
    if (memo.version === this.#version && memo.excluded === this.#excluded) memo.data.set(key, value);
    return value;
  }

  /**
   * The whole state as canonical plain data, independent of insertion order.
   * @internal For tests that check assume then forget restores a state exactly.
   */
  canonical(): unknown {
    this.#settleIndexes();
    return {
      nodes: this.nodeNames.map((name) => {
        const slot = this.#slots.get(name) as NodeSlot;
        return {
          name,
          requested: Object.entries(slot.requested).filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
          nonZero: [slot.nonZeroCpu, slot.nonZeroMemory],
          pods: slot.pods.map((pod) => pod.uid).sort(),
          cordoned: slot.cordoned,
        };
      }),
      placement: [...this.#placement].map(([uid, slot]) => `${uid}@${slot.view.name}`).sort(),
      namespaces: this.#namespaceCounts === undefined ? undefined : [...this.#namespaceCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      podIndex: this.#podIndex.canonical(),
      antiAffinity: this.#antiAffinity?.canonical(),
    };
  }

  /** The slot of the placed pod with `uid`, or undefined. */
  #placedSlot(uid: string): NodeSlot | undefined {
    if (uid === this.#unplacedUid) return undefined;
    const slot = this.#placement.get(uid);
    if (slot === undefined) this.#unplacedUid = uid;
    return slot;
  }

  #add(pod: PodView, slot: NodeSlot): void {
    if (pod.uid === this.#unplacedUid) this.#unplacedUid = undefined;
    slot.pods.push(pod);
    const requested = slot.requested;
    for (const name in pod.requests) requested[name] = (requested[name] ?? 0) + (pod.requests[name] as number);
    slot.nonZeroCpu += _nonZeroCpu(pod);
    slot.nonZeroMemory += _nonZeroMemory(pod);
    this.#placement.set(pod.uid, slot);
    this.#deferIndexes(pod, slot.index, true);
    if (this.#namespaceCounts !== undefined) this.#namespaceCounts.set(pod.namespace, (this.#namespaceCounts.get(pod.namespace) ?? 0) + 1);
    if (this.#scoringAffinityPods !== undefined && hasScoringAffinityTerms(pod)) this.#scoringAffinityPods++;
    this.#antiAffinity?.add(pod, slot.view);
  }

  /** `at` is the pod's position in `slot.pods` when the caller knows it. */
  #remove(pod: PodView, slot: NodeSlot, at: number = slot.pods.indexOf(pod)): void {
    // Order is not kept: the last pod takes the removed one's place.
    const index = at;
    const last = slot.pods.pop() as PodView;
    if (index >= 0 && index < slot.pods.length) slot.pods[index] = last;
    // Sums of integers: exact, so a resource all pods left is back at 0 (kept, not deleted, so
    // the object keeps its shape).
    const requested = slot.requested;
    for (const name in pod.requests) requested[name] = (requested[name] ?? 0) - (pod.requests[name] as number);
    slot.nonZeroCpu -= _nonZeroCpu(pod);
    slot.nonZeroMemory -= _nonZeroMemory(pod);
    this.#placement.delete(pod.uid);
    this.#deferIndexes(pod, slot.index, false);
    if (this.#namespaceCounts !== undefined) {
      const count = (this.#namespaceCounts.get(pod.namespace) ?? 0) - 1;
      if (count > 0) this.#namespaceCounts.set(pod.namespace, count);
      else this.#namespaceCounts.delete(pod.namespace);
    }
    if (this.#scoringAffinityPods !== undefined && hasScoringAffinityTerms(pod)) this.#scoringAffinityPods--;
    this.#antiAffinity?.remove(pod, slot.view);
  }

  /** Notes that `pod` was put on (`added`) or taken off the node of `index`, for the label index and selector counts. */
  #deferIndexes(pod: PodView, index: number, added: boolean): void {
    const pending = this.#pendingIndexes;
    const known = pending.get(pod);
    let off = known === undefined ? -1 : _pendingOff(known);
    let on = known === undefined ? -1 : _pendingOn(known);
    // A pod is taken off only where it is and put on only when it is nowhere (`forget` and
    // `assume` refuse the rest): an undo meets its change here.
    if (added) {
      if (off === index) off = -1;
      else on = index;
    } else if (on === index) on = -1;
    else off = index;
    if (off < 0 && on < 0) {
      pending.delete(pod);
      return;
    }
    pending.set(pod, _pendingOf(off, on));
    if (known === undefined && pending.size > _MAX_PENDING_INDEXES) this.#settleIndexes();
  }

  /** Applies the changes `#deferIndexes` holds: each pod taken off, then put on. */
  #settleIndexes(): void {
    const pending = this.#pendingIndexes;
    if (pending.size === 0) return;
    for (const [pod, change] of pending) {
      const off = _pendingOff(change);
      const on = _pendingOn(change);
      if (off >= 0) {
        this.#podIndex.remove(pod);
        this.#selected.count(pod, off, -1);
      }
      if (on >= 0) {
        this.#podIndex.add(pod);
        this.#selected.count(pod, on, 1);
      }
    }
    pending.clear();
  }

  /** After the node set or a node's labels changed: memos of nodes start over. */
  #nodesChanged(): void {
    this.#nodeMemo = new Map();
    this.#version++;
  }

  /** Makes the per-node arrays at least `needed` long, doubling so that growing node by node stays cheap. */
  #growIndexes(needed: number): void {
    const capacity = Math.max(needed, this.#indexCapacity * 2);
    this.#selected.grow(capacity);
    this.#indexCapacity = capacity;
  }

  #namespaces(): Map<string, number> {
    if (this.#namespaceCounts === undefined) {
      const counts = new Map<string, number>();
      for (const slot of this.#slots.values()) {
        for (const pod of slot.pods) counts.set(pod.namespace, (counts.get(pod.namespace) ?? 0) + 1);
      }
      this.#namespaceCounts = counts;
    }
    return this.#namespaceCounts;
  }

  #antiAffinityIndex(): AntiAffinityIndex {
    if (this.#antiAffinity === undefined) {
      const index = new AntiAffinityIndex();
      for (const slot of this.#slots.values()) {
        for (const pod of slot.pods) index.add(pod, slot.view);
      }
      this.#antiAffinity = index;
    }
    return this.#antiAffinity;
  }

  #slot(nodeName: string, action: string): NodeSlot {
    const slot = this.#slots.get(nodeName);
    if (slot === undefined) throw new Error(`Cannot ${action} node "${nodeName}": the node is not in the state`);
    return slot;
  }
}

/** The position of the pod with `uid` in `pods`, or -1 (a loop, not `findIndex`: forget runs for every trial move). */
function _indexOfUid(pods: readonly PodView[], uid: string): number {
  for (let i = 0; i < pods.length; i++) if ((pods[i] as PodView).uid === uid) return i;
  return -1;
}

/**
 * The pod's cpu and memory requests as the scheduler's resource scores count them: `pod.nonZero`
 * (the default 100m cpu and 200Mi memory given per container, as upstream), or, for a model built
 * without it, the pod's requests with a zero total counted as the default once.
 */
export function nonZeroRequests(pod: PodView): NonZeroRequests {
  return pod.nonZero ?? { cpu: _nonZeroCpu(pod), memory: _nonZeroMemory(pod) };
}
/**
 * The node slots of a snapshot with its placed pods, and where each is; with `unique`, a pod whose
 * uid is placed already is left out. `placed` counts the pods put in slots.
 */
function _placePods(snapshot: ClusterSnapshot, unique: boolean): { readonly slots: Map<string, NodeSlot>; readonly placement: Map<string, NodeSlot>; readonly placed: number } {
  const slots = new Map<string, NodeSlot>();
  for (const node of snapshot.nodes) {
    slots.set(node.name, { view: node, index: -1, pods: [], requested: {}, nonZeroCpu: 0, nonZeroMemory: 0, cordoned: false });
  }
  const placement = new Map<string, NodeSlot>();
  let placed = 0;
  for (const pod of snapshot.pods) {
    if (pod.nodeName === '' || pod.phase === 'Succeeded' || pod.phase === 'Failed') continue;
    const slot = slots.get(pod.nodeName);
    if (slot === undefined || (unique && placement.has(pod.uid))) continue;
    slot.pods.push(pod);
    placement.set(pod.uid, slot);
    placed++;
    slot.nonZeroCpu += _nonZeroCpu(pod);
    slot.nonZeroMemory += _nonZeroMemory(pod);
    // Summed in place, as `#add` does; the indexes are built when first used.
    const requested = slot.requested;
    for (const name in pod.requests) requested[name] = (requested[name] ?? 0) + (pod.requests[name] ?? 0);
  }
  return { slots, placement, placed };
}

/** Index changes held back before they are applied anyway, so a state nobody reads does not hold every pod it saw. */
const _MAX_PENDING_INDEXES = 4_096;

/** Node indexes stay below this (4,194,304): a pending change packs two of them in one number. */
const _PENDING_BASE = 0x400000;

/** One number for a pending change: the node index the pod is to be taken off and the one it is to be put on (-1: none). */
function _pendingOf(off: number, on: number): number {
  return (off + 1) * _PENDING_BASE + (on + 1);
}

function _pendingOff(change: number): number {
  return Math.floor(change / _PENDING_BASE) - 1;
}

function _pendingOn(change: number): number {
  return (change % _PENDING_BASE) - 1;
}

/** The smallest per-node array length, so a small state that grows does not reallocate at every node. */
const _MIN_INDEX_CAPACITY = 16;

/** Node memos kept for undoing `addNode`: deeper than a Cluster Autoscaler trial's template and upcoming nodes. */
const _MEMO_UNDO_DEPTH = 512;

/** Whether two label sets are equal (the same object, or the same keys and values). */
function _sameLabels(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

interface _SelectedEntry {
  readonly matchLabels: Readonly<Record<string, string>>;
  /** By `NodeInfo.index`, the state's index capacity long (replaced when it grows). */
  counts: Int32Array;
}

/**
 * Counts per node of `matchLabels`-only selectors, each filed under its namespace and its first
 * label, so that an assumed or forgotten pod finds the selectors that may select it by its own
 * labels: a few map lookups per pod, whatever the number of selectors.
 */
class _SelectedCounts {
  /** Namespace → a selector's first label → its value → the selectors filed there (nested: no key string per lookup). */
  #byAnchor = new Map<string, Map<string, Map<string, _SelectedEntry[]>>>();
  /** Namespace → canonical selector → its entry (nested: no key string built per lookup). */
  readonly #byKey = new Map<string, Map<string, _SelectedEntry>>();
  /** Entries kept, in every namespace. */
  #size = 0;
  readonly #keys = new WeakMap<LabelSelector, string | null>();

  get(namespace: string, selector: LabelSelector): Int32Array | undefined {
    const key = this.#keyOf(selector);
    return key === null ? undefined : this.#byKey.get(namespace)?.get(key)?.counts;
  }

  keep(namespace: string, selector: LabelSelector, counts: Int32Array): void {
    const key = this.#keyOf(selector);
    const matchLabels = selector.matchLabels;
    if (key === null || matchLabels === undefined) return;
    const entry: _SelectedEntry = { matchLabels, counts };
    this.#set(namespace, key, entry);
    const anchor = Object.keys(matchLabels).sort()[0] as string;
    let byLabel = this.#byAnchor.get(namespace);
    if (byLabel === undefined) this.#byAnchor.set(namespace, (byLabel = new Map<string, Map<string, _SelectedEntry[]>>()));
    let byValue = byLabel.get(anchor);
    if (byValue === undefined) byLabel.set(anchor, (byValue = new Map<string, _SelectedEntry[]>()));
    const value = matchLabels[anchor] as string;
    const list = byValue.get(value);
    if (list === undefined) byValue.set(value, [entry]);
    else list.push(entry);
  }

  count(pod: PodView, nodeIndex: number, delta: 1 | -1): void {
    if (this.#size === 0 || pod.deletionRequestedAt !== undefined) return;
    const byLabel = this.#byAnchor.get(pod.namespace);
    if (byLabel === undefined) return;
    for (const label in pod.labels) {
      const list = byLabel.get(label)?.get(pod.labels[label] as string);
      if (list === undefined) continue;
      for (const entry of list) {
        if (_selects(entry.matchLabels, pod.labels)) entry.counts[nodeIndex] = (entry.counts[nodeIndex] as number) + delta;
      }
    }
  }

  /** Makes every count array `capacity` long, as the state's per-node arrays grow. */
  grow(capacity: number): void {
    for (const byKey of this.#byKey.values()) {
      for (const entry of byKey.values()) {
        const counts = new Int32Array(capacity);
        counts.set(entry.counts);
        entry.counts = counts;
      }
    }
  }

  copyFrom(other: _SelectedCounts): void {
    const copies = new Map<_SelectedEntry, _SelectedEntry>();
    for (const [namespace, byKey] of other.#byKey) {
      for (const [key, entry] of byKey) {
        const copy = { matchLabels: entry.matchLabels, counts: entry.counts.slice() };
        copies.set(entry, copy);
        this.#set(namespace, key, copy);
      }
    }
    for (const [namespace, byLabel] of other.#byAnchor) {
      const labels = new Map<string, Map<string, _SelectedEntry[]>>();
      for (const [label, byValue] of byLabel) {
        const values = new Map<string, _SelectedEntry[]>();
        for (const [value, list] of byValue) values.set(value, list.map((entry) => copies.get(entry) as _SelectedEntry));
        labels.set(label, values);
      }
      this.#byAnchor.set(namespace, labels);
    }
  }

  #set(namespace: string, key: string, entry: _SelectedEntry): void {
    let byKey = this.#byKey.get(namespace);
    if (byKey === undefined) this.#byKey.set(namespace, (byKey = new Map<string, _SelectedEntry>()));
    if (!byKey.has(key)) this.#size++;
    byKey.set(key, entry);
  }

  /** A canonical string of a `matchLabels`-only, non-empty selector; null for any other. */
  #keyOf(selector: LabelSelector): string | null {
    let key = this.#keys.get(selector);
    if (key === undefined) {
      const labels = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      key = (selector.matchExpressions ?? []).length > 0 || labels.length === 0 ? null : JSON.stringify(labels);
      this.#keys.set(selector, key);
    }
    return key;
  }
}

function _selects(matchLabels: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const key in matchLabels) if (labels[key] !== matchLabels[key]) return false;
  return true;
}

function _nonZeroCpu(pod: PodView): number {
  return pod.nonZero?.cpu ?? _nonZero(pod.requests['cpu'], DEFAULT_MILLI_CPU_REQUEST);
}

function _nonZeroMemory(pod: PodView): number {
  return pod.nonZero?.memory ?? _nonZero(pod.requests['memory'], DEFAULT_MEMORY_REQUEST);
}

function _nonZero(amount: number | undefined, fallback: number): number {
  return amount === undefined || amount === 0 ? fallback : amount;
}

/** `namespace/name`, as reasons quote pods. */
export function _podName(pod: PodView): string {
  return `${pod.namespace}/${pod.name}`;
}

/** Whether a placed pod's pod-affinity terms can score another pod: required or preferred affinity, preferred anti-affinity. */
export function hasScoringAffinityTerms(pod: PodView): boolean {
  const { podAffinity, podAntiAffinity } = pod.constraints;
  return (podAffinity?.required?.length ?? 0) > 0 || (podAffinity?.preferred?.length ?? 0) > 0 || (podAntiAffinity?.preferred?.length ?? 0) > 0;
}
