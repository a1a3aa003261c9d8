/**
 * The scheduler's view of the cluster, as kube-scheduler's cache: one {@link FitState} built once
 * from the cluster cache's first snapshot and then kept current by its watch events (a node added,
 * changed or removed; a pod bound, changed or gone) and by the scheduler's own assumptions (a pod
 * reserved on a node before its bind is confirmed). Never rebuilt per pod.
 *
 * An assumed pod stays on its node until the watch shows it bound (the assumption is confirmed and
 * replaced by the pod as the apiserver has it) or its bind fails (`forget`).
 */
import type { CapacityTypeRule } from '../../core/capacity.js';
import { nodeFromKube, ownerResolver, podFromKube, podPlacementFields, spreadSelectorResolver, type KubeNode, type KubePod, type OwnerResolver, type SpreadSelectorResolver } from '../../core/from-kube.js';
import type { Labels } from '../../core/labels.js';
import type { PdbView, PodView } from '../../core/model.js';
import type { PriceTable } from '../../core/pricing.js';
import { pdbFromKube } from '../../core/from-kube.js';
import { FitState } from '../../policy/fit/index.js';
import type { ClusterCache } from '../../kube/cluster-cache.js';

/**
 * A pod's view and what it was made from. A pod's spec changes only with its
 * `metadata.generation` (Kubernetes 1.33+); labels, annotations, owners and deletion are
 * metadata, compared on their own.
 */
interface _ViewMemo {
  readonly generation: number;
  readonly labels: Labels | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
  readonly owners: string;
  readonly deletion: unknown;
  view: PodView;
}

/** What a change of the cluster may do for pods waiting as unschedulable. */
export type ClusterChange = 'none' | 'room';

/** Options of {@link LiveFitState}. */
export interface LiveFitStateOptions {
  readonly capacityRules: readonly CapacityTypeRule[];
  readonly prices?: PriceTable;
}

/** See the module comment. */
export class LiveFitState {
  readonly fit: FitState;
  readonly #cache: ClusterCache;
  readonly #capacityRules: readonly CapacityTypeRule[];
  /** uid → the node the scheduler reserved the pod on, until the watch confirms the bind. */
  readonly #assumed = new Map<string, string>();
  /** uid → the node a preemptor is nominated to, while it waits for its victims to go. */
  readonly #nominated = new Map<string, string>();
  /** uid → its last view, reused across the pod's status updates (see {@link _ViewMemo}). */
  readonly #views = new Map<string, _ViewMemo>();
  #owner: OwnerResolver | undefined;
  #spread: SpreadSelectorResolver | undefined;
  #pdbs: readonly PdbView[] | undefined;

  /** Builds the state from the cache's current content; call with the cache synced. */
  constructor(cache: ClusterCache, options: LiveFitStateOptions) {
    this.#cache = cache;
    this.#capacityRules = options.capacityRules;
    const namespaceLabels: Record<string, Labels> = {};
    for (const ns of cache.list('namespaces')) namespaceLabels[ns.metadata?.name ?? ''] = ns.metadata?.labels ?? {};
    this.fit = FitState.fromSnapshot(cache.snapshot(), { ...(options.prices === undefined ? {} : { prices: options.prices }), namespaceLabels });
  }

  /**
   * The pod as the fit plugins read it (owner and default spread selector resolved from the
   * cache). Converted once: while its spec (generation), labels, annotations, owners and deletion
   * stand, a status update or its bind only refreshes node, phase and readiness of the last view.
   */
  podView(pod: KubePod): PodView {
    const meta = pod.metadata;
    const uid = meta?.uid ?? '';
    const generation = meta?.generation;
    const memo = this.#views.get(uid);
    if (memo !== undefined && generation !== undefined && memo.generation === generation && _sameMap(memo.labels, meta?.labels) && _sameMap(memo.annotations, meta?.annotations) && memo.deletion === meta?.deletionTimestamp?.valueOf() && memo.owners === _owners(pod)) {
      const placement = podPlacementFields(pod);
      const last = memo.view;
      if (last.nodeName !== placement.nodeName || last.phase !== placement.phase || last.ready !== placement.ready) memo.view = { ...last, ...placement };
      return memo.view;
    }
    this.#owner ??= ownerResolver(this.#cache.list('replicasets'), this.#cache.list('jobs'));
    this.#spread ??= spreadSelectorResolver({ services: this.#cache.list('services'), replicaSets: this.#cache.list('replicasets'), statefulSets: this.#cache.list('statefulsets') });
    const view = podFromKube(pod, this.#owner, this.#spread);
    // Without a generation (before Kubernetes 1.33) a spec change cannot be told: converted each time.
    if (generation !== undefined && uid !== '') {
      this.#views.set(uid, { generation, labels: meta?.labels, annotations: meta?.annotations, owners: _owners(pod), deletion: meta?.deletionTimestamp?.valueOf(), view });
    }
    return view;
  }

  /** The PodDisruptionBudgets, for preemption's choice of victims. */
  pdbs(): readonly PdbView[] {
    this.#pdbs ??= this.#cache.list('poddisruptionbudgets').map(pdbFromKube);
    return this.#pdbs;
  }

  /** An owner, Service or PDB changed: the resolvers and PDBs are rebuilt when next needed. */
  invalidate(kind: 'owners' | 'pdbs'): void {
    if (kind === 'owners') {
      this.#owner = undefined;
      this.#spread = undefined;
      // Views carry the owner and spread selector resolved then.
      this.#views.clear();
    } else {
      this.#pdbs = undefined;
    }
  }

  /** Whether the pod is reserved on a node by the scheduler and its bind not yet seen. */
  isAssumed(uid: string): boolean {
    return this.#assumed.has(uid);
  }

  /** Reserve: the pod counts on the node from now on (replacing any placement it had, as a nomination). */
  assume(pod: PodView, nodeName: string): void {
    this.#nominated.delete(pod.uid);
    if (this.fit.nodeOf(pod.uid) !== undefined) this.fit.forget(pod.uid);
    this.fit.assume(pod, nodeName);
    this.#assumed.set(pod.uid, nodeName);
  }

  /**
   * Unreserve after a failed bind: the pod leaves the node, unless the watch already confirmed
   * the bind (then the apiserver's word stands). Returns whether it was taken off.
   */
  forget(uid: string): boolean {
    if (!this.#assumed.delete(uid)) return false;
    if (this.fit.nodeOf(uid) !== undefined) this.fit.forget(uid);
    return true;
  }

  /**
   * Holds room for a preemptor on its nominated node while the victims terminate, as upstream's
   * nominator does: pods scheduled meanwhile see the node as holding it. Not an assumption: no
   * bind follows, and the preemptor's own next cycle does not count it against itself.
   */
  nominate(pod: PodView, nodeName: string): void {
    if (this.#assumed.has(pod.uid) || this.fit.node(nodeName) === undefined) return;
    if (this.fit.nodeOf(pod.uid) !== undefined) this.fit.forget(pod.uid);
    this.fit.assume(pod, nodeName);
    this.#nominated.set(pod.uid, nodeName);
  }

  /** Drops the pod's nomination (its room goes back); false when it had none. */
  unnominate(uid: string): boolean {
    if (!this.#nominated.delete(uid)) return false;
    if (this.fit.nodeOf(uid) !== undefined) this.fit.forget(uid);
    return true;
  }

  /** The node the pod is nominated to, or undefined. */
  nominatedNode(uid: string): string | undefined {
    return this.#nominated.get(uid);
  }

  /** A node event from the cache. */
  applyNode(event: 'add' | 'update' | 'delete', node: KubeNode): ClusterChange {
    const name = node.metadata?.name ?? '';
    if (event === 'delete') {
      if (this.fit.node(name) === undefined) return 'none';
      for (const pod of this.fit.podsOn(name)) {
        this.#assumed.delete(pod.uid);
        this.#nominated.delete(pod.uid);
      }
      this.fit.removeNode(name);
      return 'none';
    }
    const view = nodeFromKube(node, this.#capacityRules);
    if (this.fit.node(name) !== undefined) {
      this.fit.updateNode(view);
      return 'room';
    }
    this.fit.addNode(view);
    // Pods the watch delivered before their node count from now on.
    for (const pod of this.#cache.list('pods')) {
      if (pod.spec?.nodeName === name && _counts(pod) && this.fit.nodeOf(pod.metadata?.uid ?? '') === undefined) this.fit.assume(this.podView(pod), name);
    }
    return 'room';
  }

  /** A pod event from the cache; `room` when it may have freed room (a pod gone or finished). */
  applyPod(event: 'add' | 'update' | 'delete', pod: KubePod): ClusterChange {
    const uid = pod.metadata?.uid ?? '';
    const placed = this.fit.nodeOf(uid);
    if (event === 'delete') {
      this.#assumed.delete(uid);
      this.#nominated.delete(uid);
      this.#views.delete(uid);
      if (placed === undefined) return 'none';
      this.fit.forget(uid);
      return 'room';
    }
    const nodeName = pod.spec?.nodeName ?? '';
    // Our reservation (or nomination) stands until the watch shows the bind (or the bind fails).
    if (nodeName === '' && (this.#assumed.has(uid) || this.#nominated.has(uid)) && pod.metadata?.deletionTimestamp == null) return 'none';
    this.#assumed.delete(uid);
    this.#nominated.delete(uid);
    if (nodeName !== '' && _counts(pod) && this.fit.node(nodeName) !== undefined) {
      const view = this.podView(pod);
      // The same view on the same node (a status update that changed nothing it holds): nothing to redo.
      if (placed === nodeName && this.fit.podsOn(nodeName).includes(view)) return 'none';
      if (placed !== undefined) this.fit.forget(uid);
      this.fit.assume(view, nodeName);
      return 'none';
    }
    if (placed === undefined) return 'none';
    this.fit.forget(uid);
    // A pod that finished frees its room; a pending pod losing its nomination frees none.
    return nodeName === '' ? 'none' : 'room';
  }
}

/** Two label or annotation maps with the same entries (the watch makes a new object each time). */
function _sameMap(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  const ka = a === undefined ? [] : Object.keys(a);
  const kb = b === undefined ? [] : Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if ((a as Record<string, string>)[k] !== b?.[k]) return false;
  return true;
}

function _owners(pod: KubePod): string {
  const refs = pod.metadata?.ownerReferences;
  if (refs === undefined || refs.length === 0) return '';
  return refs.map((r) => `${r.uid}/${r.controller === true ? 'c' : ''}`).join(',');
}

/** Whether a bound pod takes room: not Succeeded or Failed (terminating pods still count, as upstream). */
function _counts(pod: KubePod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed';
}
