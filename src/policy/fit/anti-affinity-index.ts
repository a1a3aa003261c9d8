/**
 * The required pod anti-affinity terms of placed pods, grouped by identical term, so that "which
 * placed pods repel this incoming pod" costs the number of distinct terms that could match it,
 * not the number of pods. Pods of one workload share a term, so a cluster of 150,000 pods holds a
 * few thousand groups. Kept up to date by `FitState` on every assume and forget.
 */
import { matchesLabelSelector } from '../../core/labels.js';
import type { LabelSelector, NodeView, PodAffinityTerm, PodView } from '../../core/model.js';
import { fixedTermNamespaces } from './affinity-term.js';
import type { NamespaceLabels } from './affinity-term.js';

/** One distinct required anti-affinity term and where pods carrying it are. */
export interface AntiAffinityGroup {
  readonly topologyKey: string;
  readonly selector: LabelSelector;
  /** The namespaces the term names (the carrier's own when it names none and has no namespace selector). */
  readonly namespaces: readonly string[];
  /** Selects further namespaces by their labels; `{}` selects every namespace. */
  readonly namespaceSelector?: LabelSelector;
  /** Topology value (of `topologyKey` on the carriers' nodes) → number of carriers there. */
  readonly counts: ReadonlyMap<string, number>;
}

interface Group extends AntiAffinityGroup {
  readonly key: string;
  readonly counts: Map<string, number>;
  /** Anchor labels (`key\0value`) the group is filed under, or empty when filed as unanchored. */
  readonly anchors: readonly string[];
  /** Carriers, counting those on nodes without the topology label. */
  refs: number;
}

/** The required anti-affinity terms of placed pods, grouped and filed by namespace and anchor label. */
export class AntiAffinityIndex {
  readonly #groups = new Map<string, Group>();
  /** namespace → anchor (`key\0value`) → groups. */
  readonly #anchored = new Map<string, Map<string, Set<Group>>>();
  /** namespace → groups with no anchor label. */
  readonly #unanchored = new Map<string, Set<Group>>();
  /** Groups with a namespace selector, tested against every incoming pod's namespace: they are rare. */
  readonly #namespaceScoped = new Set<Group>();

  /** Records the anti-affinity terms of `pod`, placed on `node`. */
  add(pod: PodView, node: NodeView): void {
    // Most pods carry no term: return before making an iterator (the index is built over every pod).
    const required = pod.constraints.podAntiAffinity?.required;
    if (required === undefined || required.length === 0) return;
    for (const term of required) {
      // An absent selector selects nothing, as upstream: the term can never repel anyone.
      if (term.labelSelector === undefined) continue;
      const key = _termKey(pod, term);
      let group = this.#groups.get(key);
      if (group === undefined) {
        group = _newGroup(key, pod, term, term.labelSelector);
        this.#groups.set(key, group);
        this.#file(group);
      }
      group.refs++;
      const value = node.labels[term.topologyKey];
      if (value !== undefined) group.counts.set(value, (group.counts.get(value) ?? 0) + 1);
    }
  }

  /** Undoes `add(pod, node)`; groups left without carriers are dropped. */
  remove(pod: PodView, node: NodeView): void {
    const required = pod.constraints.podAntiAffinity?.required;
    if (required === undefined || required.length === 0) return;
    for (const term of required) {
      if (term.labelSelector === undefined) continue;
      const key = _termKey(pod, term);
      const group = this.#groups.get(key);
      if (group === undefined) continue;
      group.refs--;
      const value = node.labels[term.topologyKey];
      if (value !== undefined) {
        const count = (group.counts.get(value) ?? 0) - 1;
        if (count > 0) group.counts.set(value, count);
        else group.counts.delete(value);
      }
      if (group.refs <= 0) {
        this.#groups.delete(key);
        this.#unfile(group);
      }
    }
  }

  /** Calls `visit` for every group whose term selects `pod` (by namespace and labels). */
  forEachMatching(pod: PodView, namespaceLabels: NamespaceLabels, visit: (group: AntiAffinityGroup) => void): void {
    const anchored = this.#anchored.get(pod.namespace);
    if (anchored !== undefined) {
      for (const key in pod.labels) {
        const groups = anchored.get(_anchor(key, pod.labels[key] as string));
        if (groups === undefined) continue;
        for (const group of groups) {
          if (group.counts.size > 0 && matchesLabelSelector(group.selector, pod.labels)) visit(group);
        }
      }
    }
    const unanchored = this.#unanchored.get(pod.namespace);
    if (unanchored !== undefined) {
      for (const group of unanchored) {
        if (group.counts.size > 0 && matchesLabelSelector(group.selector, pod.labels)) visit(group);
      }
    }
    for (const group of this.#namespaceScoped) {
      if (group.counts.size === 0 || !matchesLabelSelector(group.selector, pod.labels)) continue;
      if (group.namespaces.includes(pod.namespace) || matchesLabelSelector(group.namespaceSelector, namespaceLabels(pod.namespace))) visit(group);
    }
  }

  /** An independent copy. */
  clone(): AntiAffinityIndex {
    const copy = new AntiAffinityIndex();
    for (const group of this.#groups.values()) {
      const groupCopy: Group = { ...group, counts: new Map(group.counts) };
      copy.#groups.set(group.key, groupCopy);
      copy.#file(groupCopy);
    }
    return copy;
  }

  /** A canonical plain-data form, for tests that compare states. */
  canonical(): unknown {
    return {
      groups: [...this.#groups.values()]
        .map((g) => ({ key: g.key, refs: g.refs, counts: [...g.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      anchored: [...this.#anchored]
        .flatMap(([ns, byAnchor]) => [...byAnchor].flatMap(([anchor, groups]) => [...groups].map((g) => `${ns}|${anchor}|${g.key}`)))
        .sort(),
      unanchored: [...this.#unanchored].flatMap(([ns, groups]) => [...groups].map((g) => `${ns}|${g.key}`)).sort(),
      namespaceScoped: [...this.#namespaceScoped].map((g) => g.key).sort(),
    };
  }

  #file(group: Group): void {
    if (group.namespaceSelector !== undefined) {
      this.#namespaceScoped.add(group);
      return;
    }
    for (const ns of group.namespaces) {
      if (group.anchors.length === 0) {
        _getOrCreate(this.#unanchored, ns, () => new Set<Group>()).add(group);
        continue;
      }
      const byAnchor = _getOrCreate(this.#anchored, ns, () => new Map<string, Set<Group>>());
      for (const anchor of group.anchors) _getOrCreate(byAnchor, anchor, () => new Set<Group>()).add(group);
    }
  }

  #unfile(group: Group): void {
    if (group.namespaceSelector !== undefined) {
      this.#namespaceScoped.delete(group);
      return;
    }
    for (const ns of group.namespaces) {
      if (group.anchors.length === 0) {
        const groups = this.#unanchored.get(ns);
        groups?.delete(group);
        if (groups?.size === 0) this.#unanchored.delete(ns);
        continue;
      }
      const byAnchor = this.#anchored.get(ns);
      if (byAnchor === undefined) continue;
      for (const anchor of group.anchors) {
        const groups = byAnchor.get(anchor);
        groups?.delete(group);
        if (groups?.size === 0) byAnchor.delete(anchor);
      }
      if (byAnchor.size === 0) this.#anchored.delete(ns);
    }
  }
}

/**
 * A key equal for equal terms (same namespaces, topology key and selector), built by plain
 * concatenation: it is computed on every add and remove. Separators are characters label keys and
 * values cannot contain.
 */
function _termKey(pod: PodView, term: PodAffinityTerm): string {
  const namespaces = term.namespaces;
  let key: string;
  if (namespaces === undefined || namespaces.length === 0) key = term.namespaceSelector === undefined ? pod.namespace : '';
  else key = namespaces.length === 1 ? (namespaces[0] as string) : [...new Set(namespaces)].sort().join('\u0003');
  key += `\u0001${term.topologyKey}${_selectorKey(term.labelSelector)}`;
  if (term.namespaceSelector !== undefined) key += `\u0001\u0001${_selectorKey(term.namespaceSelector)}`;
  return key;
}

function _selectorKey(selector: LabelSelector | undefined): string {
  let key = '\u0001';
  const matchLabels = selector?.matchLabels;
  if (matchLabels !== undefined) {
    const keys = Object.keys(matchLabels);
    if (keys.length > 1) keys.sort();
    for (const k of keys) key += `${k}=${matchLabels[k] as string}\u0003`;
  }
  for (const e of selector?.matchExpressions ?? []) key += `\u0001${e.key}\u0002${e.operator}\u0002${(e.values ?? []).join('\u0003')}`;
  return key;
}

function _newGroup(key: string, pod: PodView, term: PodAffinityTerm, selector: LabelSelector): Group {
  const namespaces = [...(fixedTermNamespaces(pod, term) ?? new Set(term.namespaces))].sort();
  const matchLabels = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const group: Group = { key, topologyKey: term.topologyKey, selector, namespaces, anchors: _anchorsOf(selector, matchLabels), counts: new Map(), refs: 0 };
  return term.namespaceSelector === undefined ? group : { ...group, namespaceSelector: term.namespaceSelector };
}

/**
 * Labels an incoming pod must carry (one of) for the selector to match it: the first
 * `matchLabels` pair, else the values of the first `In` expression. Empty when there is none.
 */
function _anchorsOf(selector: LabelSelector, sortedMatchLabels: readonly (readonly [string, string])[]): string[] {
  const first = sortedMatchLabels[0];
  if (first !== undefined) return [_anchor(first[0], first[1])];
  const inExpression = selector.matchExpressions?.find((e) => e.operator === 'In');
  if (inExpression === undefined) return [];
  return [...new Set(inExpression.values ?? [])].map((value) => _anchor(inExpression.key, value));
}

function _anchor(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function _getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}
