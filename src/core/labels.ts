/**
 * Label selectors, node selectors and taints, matched as Kubernetes matches them:
 * metav1 `LabelSelectorAsSelector`, component-helpers `nodeaffinity` and `ToleratesTaint`.
 *
 * Invalid selectors (an `In` without values, a `Gt` whose value is not an integer, an unknown
 * operator) match nothing, as upstream, where they fail to parse and the term is skipped. Label
 * key and value syntax is not checked: the API server validated it when the object was stored.
 */
import type {
  LabelSelector,
  LabelSelectorRequirement,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  SchedulingConstraints,
  Taint,
  TaintEffect,
  Toleration,
} from './model.js';

export type Labels = Readonly<Record<string, string>>;

/** What node selection looks at: matchFields only know `metadata.name`. */
export interface NodeIdentity {
  readonly name: string;
  readonly labels: Labels;
}

/**
 * Whether `labels` match a metav1.LabelSelector. No selector matches nothing and an empty one
 * (`{}`) matches everything, as upstream; an invalid one matches nothing.
 *
 * @example
 * ```ts
 * matchesLabelSelector({ matchLabels: { app: 'cart' } }, pod.labels);
 * ```
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  const { matchLabels, matchExpressions } = selector;
  if (matchLabels !== undefined) {
    for (const key in matchLabels) {
      if (labels[key] !== matchLabels[key]) return false;
    }
  }
  if (matchExpressions !== undefined) {
    for (const requirement of matchExpressions) {
      if (!_matchesLabelRequirement(requirement, labels)) return false;
    }
  }
  return true;
}

/** Whether every key/value of a pod's `spec.nodeSelector` is on the node. */
export function matchesLabels(required: Labels, labels: Labels): boolean {
  for (const key in required) {
    if (labels[key] !== required[key]) return false;
  }
  return true;
}

/**
 * Whether a node matches one NodeSelectorTerm: all its matchExpressions (on labels) and all its
 * matchFields (on `metadata.name`). An empty term matches nothing, as upstream.
 */
export function matchesNodeSelectorTerm(term: NodeSelectorTerm, node: NodeIdentity): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  // Upstream parses the whole term first: an invalid requirement anywhere fails the term even
  // when an earlier requirement already decided it.
  for (const requirement of expressions) {
    if (!_isValidNodeRequirement(requirement)) return false;
  }
  for (const requirement of fields) {
    if (!_isValidFieldRequirement(requirement)) return false;
  }
  for (const requirement of expressions) {
    if (!_matchesNodeRequirement(requirement, node.labels)) return false;
  }
  // Upstream skips field matching for a node without a name (its field set is empty).
  if (node.name !== '') {
    for (const requirement of fields) {
      // The only node field is metadata.name; any other key reads as "".
      const actual = requirement.key === 'metadata.name' ? node.name : '';
      const equal = actual === requirement.values?.[0];
      if (requirement.operator === 'In' ? !equal : equal) return false;
    }
  }
  return true;
}

/**
 * Whether a node matches a NodeSelector (`requiredDuringSchedulingIgnoredDuringExecution`): the
 * terms are ORed. No terms, or only empty ones, match nothing.
 */
export function matchesNodeSelector(terms: readonly NodeSelectorTerm[], node: NodeIdentity): boolean {
  for (const term of terms) {
    if (matchesNodeSelectorTerm(term, node)) return true;
  }
  return false;
}

/**
 * Whether a node passes a pod's hard node constraints, as the scheduler's NodeAffinity filter:
 * `nodeSelector` and, when set, required node affinity.
 */
export function matchesRequiredNodeAffinity(constraints: SchedulingConstraints, node: NodeIdentity): boolean {
  if (constraints.nodeSelector !== undefined && !matchesLabels(constraints.nodeSelector, node.labels)) return false;
  const required = constraints.nodeAffinity?.required;
  return required === undefined || matchesNodeSelector(required, node);
}

/**
 * Whether one toleration tolerates one taint, as upstream `Toleration.ToleratesTaint`: an empty
 * effect matches every effect, an empty key matches every key (so `{operator: 'Exists'}`
 * tolerates everything), `Equal` (the default) compares values, `Exists` ignores them.
 */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect !== undefined && toleration.effect !== '' && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== taint.key) return false;
  switch (toleration.operator) {
    case undefined:
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      // Lt/Gt (alpha in 1.35) and anything unknown: upstream tolerates nothing with them by default.
      return false;
  }
}

/** The taint effects the scheduler filters on; PreferNoSchedule only affects scoring. */
export const SCHEDULING_TAINT_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'NoExecute'];

/**
 * The taints, among those with one of `effects`, that no toleration tolerates, in node order;
 * empty when the pod tolerates them all (upstream `FindMatchingUntoleratedTaint`, all of them).
 */
export function taintsNotTolerated(
  tolerations: readonly Toleration[],
  taints: readonly Taint[],
  effects: readonly TaintEffect[] = SCHEDULING_TAINT_EFFECTS,
): Taint[] {
  const untolerated: Taint[] = [];
  for (const taint of taints) {
    if (!effects.includes(taint.effect)) continue;
    if (!_tolerated(tolerations, taint)) untolerated.push(taint);
  }
  return untolerated;
}

/**
 * How many of `taints` with one of `effects` no toleration tolerates: `taintsNotTolerated(…).length`
 * without building the list, as the scheduler asks it for every node it filters and scores.
 */
export function countTaintsNotTolerated(
  tolerations: readonly Toleration[],
  taints: readonly Taint[],
  effects: readonly TaintEffect[] = SCHEDULING_TAINT_EFFECTS,
): number {
  let count = 0;
  for (const taint of taints) if (effects.includes(taint.effect) && !_tolerated(tolerations, taint)) count++;
  return count;
}

function _tolerated(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const toleration of tolerations) if (toleratesTaint(toleration, taint)) return true;
  return false;
}

function _matchesLabelRequirement(requirement: LabelSelectorRequirement, labels: Labels): boolean {
  const values = requirement.values ?? [];
  const value = labels[requirement.key];
  // typeof, not `in`: inherited Object.prototype members are not labels.
  const has = typeof value === 'string';
  switch (requirement.operator) {
    case 'In':
      return values.length > 0 && has && values.includes(value);
    case 'NotIn':
      return values.length > 0 && (!has || !values.includes(value));
    case 'Exists':
      return values.length === 0 && has;
    case 'DoesNotExist':
      return values.length === 0 && !has;
    default:
      return false;
  }
}

function _isValidNodeRequirement(requirement: NodeSelectorRequirement): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
    case 'NotIn':
      return values.length > 0;
    case 'Exists':
    case 'DoesNotExist':
      return values.length === 0;
    case 'Gt':
    case 'Lt':
      return values.length === 1 && parseInt64(values[0] ?? '') !== undefined;
    default:
      return false;
  }
}

function _isValidFieldRequirement(requirement: NodeSelectorRequirement): boolean {
  return (requirement.operator === 'In' || requirement.operator === 'NotIn') && requirement.values?.length === 1;
}

/** Matches one valid requirement (see {@link _isValidNodeRequirement}). */
function _matchesNodeRequirement(requirement: NodeSelectorRequirement, labels: Labels): boolean {
  const values = requirement.values ?? [];
  const value = labels[requirement.key];
  const has = typeof value === 'string';
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has) return false;
      const actual = parseInt64(value);
      const bound = parseInt64(values[0] ?? '');
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go `strconv.ParseInt(s, 10, 64)`: optional sign, decimal digits, int64 range. */
export function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}
