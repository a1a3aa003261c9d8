/**
 * Which namespaces a pod (anti-)affinity term selects pods in, as upstream
 * `GetNamespacesFromPodAffinityTerm` plus `namespaceSelector`: the listed `namespaces`, plus those
 * whose labels match `namespaceSelector` (`{}` matching every namespace); the term owner's own
 * namespace when neither is set.
 */
import { matchesLabelSelector } from '../../core/labels.js';
import type { Labels } from '../../core/labels.js';
import type { PodAffinityTerm, PodView } from '../../core/model.js';

/** The label the API server puts on every namespace, holding its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** A namespace's labels, for namespace selectors. */
export type NamespaceLabels = (namespace: string) => Labels;

/**
 * The namespaces the term selects in when that is a fixed list (no `namespaceSelector`), else
 * undefined: the caller must test every namespace with `termSelectsNamespace`.
 */
export function fixedTermNamespaces(owner: PodView, term: PodAffinityTerm): readonly string[] | undefined {
  if (term.namespaceSelector !== undefined) return undefined;
  const namespaces = term.namespaces;
  if (namespaces === undefined || namespaces.length === 0) return [owner.namespace];
  return namespaces.length === 1 ? namespaces : [...new Set(namespaces)];
}

/** Whether a term of `owner` selects pods in `namespace`. */
export function termSelectsNamespace(owner: PodView, term: PodAffinityTerm, namespace: string, namespaceLabels: NamespaceLabels): boolean {
  const namespaces = term.namespaces ?? [];
  if (term.namespaceSelector === undefined) return namespaces.length === 0 ? namespace === owner.namespace : namespaces.includes(namespace);
  return namespaces.includes(namespace) || matchesLabelSelector(term.namespaceSelector, namespaceLabels(namespace));
}

/** Whether a term of `owner` selects `other`: by namespace, then by its label selector (absent selects none). */
export function affinityTermMatches(owner: PodView, term: PodAffinityTerm, other: PodView, namespaceLabels: NamespaceLabels): boolean {
  return termSelectsNamespace(owner, term, other.namespace, namespaceLabels) && matchesLabelSelector(term.labelSelector, other.labels);
}
