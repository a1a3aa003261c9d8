/**
 * The JSON Patch (RFC 6902) that carries a placement decision into a pod at admission.
 * It merges into what the user wrote: their node affinity terms keep every requirement, their
 * tolerations and annotations stay, and a value the user set is never replaced.
 */
import { capacityTypeLabelFor } from '../../core/capacity.js';
import type { CapacityTypeRule } from '../../core/capacity.js';
import type { Labels } from '../../core/labels.js';
import type { Toleration } from '../../core/model.js';
import type { PlacedCapacityType, PlacementDecision } from './decide.js';
import { POD_DELETION_COST_ANNOTATION } from './decide.js';

/** The annotation recording the decision on the pod, read back when counting. */
export const CAPACITY_TYPE_ANNOTATION = 'stowage.io/capacity-type';

/** One RFC 6902 operation; placement only ever adds (an `add` on an existing member replaces it). */
export interface JsonPatchOperation {
  readonly op: 'add';
  readonly path: string;
  readonly value: unknown;
}

/** The parts of a raw Kubernetes pod (as JSON from an AdmissionReview) the patch reads. */
export interface RawPod {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> | null; readonly [field: string]: unknown } | null;
  readonly spec?: {
    readonly nodeSelector?: Readonly<Record<string, string>> | null;
    readonly affinity?: RawAffinity | null;
    readonly tolerations?: readonly RawToleration[] | null;
    readonly [field: string]: unknown;
  } | null;
  readonly [field: string]: unknown;
}

interface RawRequirement {
  readonly key?: string;
  readonly operator?: string;
  readonly values?: readonly string[] | null;
}

interface RawTerm {
  readonly matchExpressions?: readonly RawRequirement[] | null;
  readonly matchFields?: readonly RawRequirement[] | null;
}

interface RawAffinity {
  readonly [field: string]: unknown;
  readonly nodeAffinity?: {
    readonly requiredDuringSchedulingIgnoredDuringExecution?: { readonly nodeSelectorTerms?: readonly RawTerm[] | null } | null;
    readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly { readonly weight?: number; readonly preference?: RawTerm | null }[] | null;
  } | null;
}

interface RawToleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number | null;
}

/** How the node label, deletion costs and preference weight are spelled in this cluster. */
export interface PlacementPatchOptions {
  /** The node label carrying the capacity type, and its value for each type. */
  readonly capacityLabel: { readonly key: string; readonly values: Readonly<Record<PlacedCapacityType, string>> };
  /** `controller.kubernetes.io/pod-deletion-cost` per type; spot lower, so scale-down removes spot first. */
  readonly deletionCost: Readonly<Record<PlacedCapacityType, number>>;
  /** Weight of the preferred term when the decision is not required (1–100). */
  readonly preferredWeight: number;
  /** Added to spot pods so they tolerate the spot nodes' taint. */
  readonly spotToleration?: Toleration;
}

/** Defaults matching the nodes' `node.kubernetes.io/capacity: on-demand|spot` labels. */
export const DEFAULT_PLACEMENT_PATCH_OPTIONS: PlacementPatchOptions = {
  capacityLabel: { key: 'node.kubernetes.io/capacity', values: { 'on-demand': 'on-demand', spot: 'spot' } },
  deletionCost: { 'on-demand': 100, spot: -100 },
  preferredWeight: 100,
};

/**
 * The capacity label to require, read from the cluster's nodes with the capacity rules: the first
 * rule label that some node carries with a spot value and some node with an on-demand value.
 * Undefined when no one label tells both (e.g. GKE, which labels spot nodes only): requiring a
 * value no node has would leave pods Pending.
 *
 * @example
 * capacityLabelFromNodes(DEFAULT_CAPACITY_TYPE_RULES, snapshot.nodes);
 * // { key: 'node.kubernetes.io/capacity', values: { spot: 'spot', 'on-demand': 'on-demand' } }
 */
export function capacityLabelFromNodes(rules: readonly CapacityTypeRule[], nodes: Iterable<{ readonly labels: Labels }>): PlacementPatchOptions['capacityLabel'] | undefined {
  const list = [...nodes];
  for (const rule of rules) {
    const spot = capacityTypeLabelFor('spot', [rule], list);
    const onDemand = capacityTypeLabelFor('on-demand', [rule], list);
    if (spot !== undefined && onDemand !== undefined) return { key: rule.label, values: { spot: spot.value, 'on-demand': onDemand.value } };
  }
  return undefined;
}

/** Escapes one JSON Pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapeJsonPointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function _termConstrains(term: RawTerm, key: string): boolean {
  return (term.matchExpressions ?? []).some((r) => r.key === key);
}

/** Whether two tolerations are the same term (unset fields as their defaults). */
export function sameToleration(a: RawToleration, b: Toleration): boolean {
  return (
    (a.key ?? '') === (b.key ?? '') &&
    (a.operator ?? 'Equal') === (b.operator ?? 'Equal') &&
    (a.value ?? '') === (b.value ?? '') &&
    (a.effect ?? '') === (b.effect ?? '')
  );
}

/**
 * The JSON Patch that applies `decision` to `pod`:
 *
 * - required: the capacity-type requirement is appended to every required node selector term
 *   (terms are ORed, so each must carry it), or a term is created when there is none;
 *   terms that already constrain the capacity label are the user's choice and stay as they are;
 * - preferred: a preferred term for the capacity type, unless an identical one is there;
 * - spot pods get the spot toleration, unless the same toleration is there;
 * - `controller.kubernetes.io/pod-deletion-cost` (unless the user set one) and
 *   `stowage.io/capacity-type` annotations.
 *
 * Parent objects missing from the pod are created by the patch, since RFC 6902 `add` needs them.
 * A pod whose `nodeSelector` names the capacity label gets no affinity change (see `pinnedCapacityType` in inputs.ts).
 *
 * @example
 * placementPatch(pod, { capacityType: 'spot', required: true, floor: 1, reason }, options);
 * // [{ op: 'add', path: '/spec/affinity', value: { nodeAffinity: { required… } } }, …]
 */
export function placementPatch(pod: RawPod, decision: PlacementDecision, options: PlacementPatchOptions = DEFAULT_PLACEMENT_PATCH_OPTIONS): readonly JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const { key, values } = options.capacityLabel;
  const requirement = { key, operator: 'In', values: [values[decision.capacityType]] };
  const spec = pod.spec;

  if (spec?.nodeSelector?.[key] === undefined) {
    const nodeAffinity = spec?.affinity?.nodeAffinity;
    if (decision.required) {
      const terms = nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
      if (terms && terms.length > 0) {
        terms.forEach((term, i) => {
          if (_termConstrains(term, key)) return;
          const base = `/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/${i}/matchExpressions`;
          if (term.matchExpressions) ops.push({ op: 'add', path: `${base}/-`, value: requirement });
          else ops.push({ op: 'add', path: base, value: [requirement] });
        });
      } else {
        _addUnder(ops, pod, ['spec', 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'], [{ matchExpressions: [requirement] }], 'nodeSelectorTerms');
      }
    } else {
      const preferred = nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
      const term = { weight: options.preferredWeight, preference: { matchExpressions: [requirement] } };
      const present = (preferred ?? []).some((p) => {
        const exprs = p.preference?.matchExpressions ?? [];
        const only = exprs[0];
        return exprs.length === 1 && only?.key === key && only.operator === 'In' && only.values?.length === 1 && only.values[0] === requirement.values[0];
      });
      if (preferred) {
        if (!present) ops.push({ op: 'add', path: '/spec/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution/-', value: term });
      } else {
        _addUnder(ops, pod, ['spec', 'affinity', 'nodeAffinity'], [term], 'preferredDuringSchedulingIgnoredDuringExecution');
      }
    }
  }

  const toleration = options.spotToleration;
  if (decision.capacityType === 'spot' && toleration) {
    const existing = spec?.tolerations;
    if (!existing) _addUnder(ops, pod, ['spec'], [toleration], 'tolerations');
    else if (!existing.some((t) => sameToleration(t, toleration))) ops.push({ op: 'add', path: '/spec/tolerations/-', value: toleration });
  }

  const annotations = pod.metadata?.annotations;
  const wanted: Record<string, string> = {};
  if (annotations?.[POD_DELETION_COST_ANNOTATION] === undefined) wanted[POD_DELETION_COST_ANNOTATION] = String(options.deletionCost[decision.capacityType]);
  wanted[CAPACITY_TYPE_ANNOTATION] = decision.capacityType;
  if (!annotations) {
    _addUnder(ops, pod, ['metadata'], wanted, 'annotations');
  } else {
    for (const [name, value] of Object.entries(wanted)) ops.push({ op: 'add', path: `/metadata/annotations/${escapeJsonPointer(name)}`, value });
  }
  return ops;
}

/**
 * Adds `value` at `parents/leaf`, creating the first missing parent with the rest of the path
 * nested inside it, so that each RFC 6902 `add` has an existing parent.
 */
function _addUnder(ops: JsonPatchOperation[], pod: RawPod, parents: readonly string[], value: unknown, leaf: string): void {
  let node: unknown = pod;
  let depth = 0;
  for (; depth < parents.length; depth++) {
    const next = _child(node, parents[depth] ?? '');
    if (next === undefined || next === null) break;
    node = next;
  }
  let nested: unknown = { [leaf]: value };
  for (let i = parents.length - 1; i > depth; i--) nested = { [parents[i] ?? '']: nested };
  const path = parents.slice(0, depth + 1).map(escapeJsonPointer);
  if (depth === parents.length) {
    ops.push({ op: 'add', path: `/${[...path, escapeJsonPointer(leaf)].join('/')}`, value });
  } else {
    ops.push({ op: 'add', path: `/${path.join('/')}`, value: nested });
  }
}

function _child(node: unknown, key: string): unknown {
  return typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
}
