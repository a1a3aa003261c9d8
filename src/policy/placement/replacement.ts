/**
 * The pod a controller recreates after an eviction, as the placement webhook will patch it: the
 * descheduler checks where that pod fits, not where the evicted one (which carries the old
 * decision's capacity-type requirement) would.
 */
import type { NodeSelectorRequirement, NodeSelectorTerm, PodView, SchedulingConstraints } from '../../core/model.js';
import type { PlacedCapacityType } from './decide.js';
import type { PlacementPatchOptions } from './patch.js';
import { CAPACITY_TYPE_ANNOTATION, DEFAULT_PLACEMENT_PATCH_OPTIONS, sameToleration } from './patch.js';

function _isOurs(r: NodeSelectorRequirement, key: string, value: string): boolean {
  return r.key === key && r.operator === 'In' && r.values?.length === 1 && r.values[0] === value;
}

/**
 * `pod` as it will be recreated and patched for `capacityType` (undefined: recreated and left
 * alone by the webhook, as for an opted-out workload): the webhook's earlier
 * requirement (found through the `stowage.io/capacity-type` annotation) is taken out, the new
 * one joins every required term that does not name the capacity label (or forms the only term),
 * spot pods get the spot toleration, and the annotation records the new type. A pod whose
 * `nodeSelector` names the label is returned unchanged in its constraints: the user pinned it.
 * Keeps the pod's uid, so fit checks treat it as the evicted pod moving, not a new one.
 *
 * @example
 * const next = replacementPod(pod, 'spot', { capacityLabel, spotToleration });
 * checkFit(state, next, 'spot-node-1');
 */
export function replacementPod(
  pod: PodView,
  capacityType: PlacedCapacityType | undefined,
  options: Pick<PlacementPatchOptions, 'capacityLabel' | 'spotToleration'> = DEFAULT_PLACEMENT_PATCH_OPTIONS,
): PodView {
  const { key, values } = options.capacityLabel;
  const c = pod.constraints;
  if (c.nodeSelector?.[key] !== undefined) return pod;
  const previous = pod.annotations[CAPACITY_TYPE_ANNOTATION];
  const previousValue = previous === 'spot' || previous === 'on-demand' ? values[previous] : undefined;

  let terms: readonly NodeSelectorTerm[] = c.nodeAffinity?.required ?? [];
  let preferred = c.nodeAffinity?.preferred ?? [];
  if (previousValue !== undefined) {
    terms = terms
      .map((t) => (t.matchExpressions ? { ...t, matchExpressions: t.matchExpressions.filter((r) => !_isOurs(r, key, previousValue)) } : t))
      .filter((t) => (t.matchExpressions?.length ?? 0) + (t.matchFields?.length ?? 0) > 0);
    preferred = preferred.filter((p) => !(p.preference.matchExpressions?.length === 1 && p.preference.matchExpressions[0] !== undefined && _isOurs(p.preference.matchExpressions[0], key, previousValue)));
  }
  let required = terms;
  if (capacityType !== undefined) {
    const requirement: NodeSelectorRequirement = { key, operator: 'In', values: [values[capacityType]] };
    required =
      terms.length === 0
        ? [{ matchExpressions: [requirement] }]
        : terms.map((t) => ((t.matchExpressions ?? []).some((r) => r.key === key) ? t : { ...t, matchExpressions: [...(t.matchExpressions ?? []), requirement] }));
  }

  let tolerations = c.tolerations;
  const toleration = options.spotToleration;
  if (capacityType === 'spot' && toleration && !(tolerations ?? []).some((t) => sameToleration(t, toleration))) tolerations = [...(tolerations ?? []), toleration];

  const { nodeAffinity: _old, ...rest } = c;
  const nodeAffinity = { ...(required.length > 0 ? { required } : {}), ...(preferred.length > 0 ? { preferred } : {}) };
  const constraints: SchedulingConstraints = {
    ...rest,
    ...(required.length > 0 || preferred.length > 0 ? { nodeAffinity } : {}),
    ...(tolerations ? { tolerations } : {}),
  };
  const { [CAPACITY_TYPE_ANNOTATION]: _previous, ...annotations } = pod.annotations;
  return { ...pod, constraints, annotations: capacityType === undefined ? annotations : { ...annotations, [CAPACITY_TYPE_ANNOTATION]: capacityType } };
}
