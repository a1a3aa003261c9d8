/**
 * Placed pods indexed by namespace and label, so that "which pods match this selector" costs the
 * size of the answer, not the size of the cluster. Used by the inter-pod affinity and topology
 * spread filters; kept up to date by `FitState` on every assume and forget.
 *
 * A label key is indexed the first time a selector asks about it (one scan of the placed pods),
 * and kept up to date from then on: selectors use a handful of keys (`app`,
 * `app.kubernetes.io/name`), pods carry many more (`pod-template-hash`, …), and most plans never
 * query labels at all, so indexing every key up front would cost the most for nothing.
 */
import { matchesLabelSelector } from '../../core/labels.js';
import type { LabelSelector, NodeView, PodView } from '../../core/model.js';

/** Lists every placed pod, for indexing a label key when first asked about. */
export type PlacedPodSource = (visit: (pod: PodView) => void) => void;

/** The node a placed pod is on. */
export type NodeOfPlacedPod = (pod: PodView) => NodeView;

/** Pods held by identity: the state adds and removes the very objects it places. */
type PodSet = Set<PodView>;

interface NamespaceIndex {
  /** Every pod of the namespace, kept once a selector without an indexable requirement asked. */
  all: PodSet | undefined;
  /** Indexed label key → label value → pods. */
  readonly byLabel: Map<string, Map<string, PodSet>>;
}

/** Placed pods by namespace and by label key and value, for the label keys asked about so far. */
export class PodLabelIndex {
  readonly #source: PlacedPodSource;
  readonly #nodeOf: NodeOfPlacedPod;
  readonly #byNamespace = new Map<string, NamespaceIndex>();
  /** Label keys indexed in every namespace. */
  readonly #keys = new Set<string>();
  /** Whether `all` is kept in every namespace. */
  #everything = false;

  /** `source` lists every placed pod, read when a label key is first indexed; `nodeOf` places a matching pod. */
  constructor(source: PlacedPodSource, nodeOf: NodeOfPlacedPod) {
    this.#source = source;
    this.#nodeOf = nodeOf;
  }

  /** Indexes a placed pod under the keys indexed so far. */
  add(pod: PodView): void {
    // A namespace entry exists only while it holds something, so add then remove leaves no trace.
    let ns = this.#byNamespace.get(pod.namespace);
    if (this.#everything) {
      ns ??= this.#namespace(pod.namespace);
      ns.all?.add(pod);
    }
    for (const key of this.#keys) {
      if (pod.labels[key] === undefined) continue;
      ns ??= this.#namespace(pod.namespace);
      this.#addUnder(ns, key, pod);
    }
  }

  /** Removes a pod indexed by `add`; empty buckets are dropped so that add then remove leaves no trace. */
  remove(pod: PodView): void {
    const ns = this.#byNamespace.get(pod.namespace);
    if (ns === undefined) return;
    ns.all?.delete(pod);
    for (const key of this.#keys) {
      const value = pod.labels[key];
      if (value === undefined) continue;
      const values = ns.byLabel.get(key);
      const pods = values?.get(value);
      if (values === undefined || pods === undefined) continue;
      pods.delete(pod);
      if (pods.size === 0) values.delete(value);
      if (values.size === 0) ns.byLabel.delete(key);
    }
    if (ns.byLabel.size === 0 && (ns.all === undefined || ns.all.size === 0)) this.#byNamespace.delete(pod.namespace);
  }

  /**
   * Calls `visit` for every placed pod in `namespace` whose labels match `selector`, with
   * upstream semantics: an undefined selector matches nothing, `{}` matches every pod.
   */
  forEachMatching(namespace: string, selector: LabelSelector | undefined, visit: (pod: PodView, node: NodeView) => void): void {
    if (selector === undefined) return;
    const candidates = this.#narrowestCandidates(namespace, selector);
    if (candidates === undefined) return;
    for (const pod of candidates) {
      if (matchesLabelSelector(selector, pod.labels)) visit(pod, this.#nodeOf(pod));
    }
  }

  /** An independent copy over another state's `source` and `nodeOf` (pods are shared: they are immutable). */
  clone(source: PlacedPodSource, nodeOf: NodeOfPlacedPod): PodLabelIndex {
    const copy = new PodLabelIndex(source, nodeOf);
    for (const key of this.#keys) copy.#keys.add(key);
    copy.#everything = this.#everything;
    for (const [name, ns] of this.#byNamespace) {
      const byLabel = new Map<string, Map<string, PodSet>>();
      for (const [key, values] of ns.byLabel) {
        const valuesCopy = new Map<string, PodSet>();
        for (const [value, pods] of values) valuesCopy.set(value, new Set(pods));
        byLabel.set(key, valuesCopy);
      }
      copy.#byNamespace.set(name, { all: ns.all === undefined ? undefined : new Set(ns.all), byLabel });
    }
    return copy;
  }

  /** Indexes `keys` (and with `everything`, the per-namespace lists) now rather than on first use: for tests. */
  prepare(keys: Iterable<string>, everything = false): void {
    for (const key of keys) this.#ensureKey(key);
    if (everything) this.#ensureEverything();
  }

  /** A canonical plain-data form, for tests that compare states. */
  canonical(): unknown {
    return {
      keys: [...this.#keys].sort(),
      everything: this.#everything,
      namespaces: [...this.#byNamespace]
        .sort(([a], [b]) => _compare(a, b))
        .map(([name, ns]) => ({
          namespace: name,
          all: ns.all === undefined ? undefined : [...ns.all].map((pod) => this.#describe(pod)).sort(),
          byLabel: [...ns.byLabel]
            .sort(([a], [b]) => _compare(a, b))
            .map(([key, values]) => ({
              key,
              values: [...values]
                .sort(([a], [b]) => _compare(a, b))
                .map(([value, pods]) => ({ value, pods: [...pods].map((pod) => this.#describe(pod)).sort() })),
            })),
        })),
    };
  }

  /**
   * The smallest bucket a selector's pods must all be in: the pods with one of its `matchLabels`
   * pairs, or with one of the values of an `In` expression, or with an `Exists` key; else the whole
   * namespace. `undefined` when a required bucket is empty, so nothing can match.
   */
  #narrowestCandidates(namespace: string, selector: LabelSelector): Iterable<PodView> | undefined {
    let best: Iterable<PodView> | undefined;
    let bestSize = Infinity;
    const matchLabels = selector.matchLabels ?? {};
    for (const key in matchLabels) {
      this.#ensureKey(key);
      const pods = this.#byNamespace.get(namespace)?.byLabel.get(key)?.get(matchLabels[key] as string);
      if (pods === undefined) return undefined;
      if (pods.size < bestSize) {
        best = pods.values();
        bestSize = pods.size;
      }
    }
    for (const requirement of selector.matchExpressions ?? []) {
      if (requirement.operator !== 'In' && requirement.operator !== 'Exists') continue;
      this.#ensureKey(requirement.key);
      const values = this.#byNamespace.get(namespace)?.byLabel.get(requirement.key);
      if (values === undefined) return undefined;
      const buckets: PodSet[] = [];
      if (requirement.operator === 'Exists') {
        buckets.push(...values.values());
      } else {
        for (const value of new Set(requirement.values ?? [])) {
          const pods = values.get(value);
          if (pods !== undefined) buckets.push(pods);
        }
      }
      const size = buckets.reduce((sum, pods) => sum + pods.size, 0);
      if (size === 0) return undefined;
      if (size < bestSize) {
        best = _concat(buckets);
        bestSize = size;
      }
    }
    if (best !== undefined) return best;
    this.#ensureEverything();
    return this.#byNamespace.get(namespace)?.all?.values();
  }

  #ensureKey(key: string): void {
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.#source((pod) => {
      if (pod.labels[key] !== undefined) this.#addUnder(this.#namespace(pod.namespace), key, pod);
    });
  }

  #ensureEverything(): void {
    if (this.#everything) return;
    this.#everything = true;
    for (const ns of this.#byNamespace.values()) ns.all = new Set();
    this.#source((pod) => this.#namespace(pod.namespace).all?.add(pod));
  }

  #namespace(name: string): NamespaceIndex {
    let ns = this.#byNamespace.get(name);
    if (ns === undefined) {
      ns = { all: this.#everything ? new Set() : undefined, byLabel: new Map() };
      this.#byNamespace.set(name, ns);
    }
    return ns;
  }

  #describe(pod: PodView): string {
    return `${pod.uid}@${this.#nodeOf(pod).name}`;
  }

  #addUnder(ns: NamespaceIndex, key: string, pod: PodView): void {
    const value = pod.labels[key];
    if (value === undefined) return;
    let values = ns.byLabel.get(key);
    if (values === undefined) {
      values = new Map();
      ns.byLabel.set(key, values);
    }
    let pods = values.get(value);
    if (pods === undefined) {
      pods = new Set();
      values.set(value, pods);
    }
    pods.add(pod);
  }
}

function* _concat(buckets: readonly PodSet[]): Generator<PodView> {
  for (const pods of buckets) yield* pods;
}

function _compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
