/**
 * The pod a controller recreates after an eviction, as the placement webhook will patch it: the
 * descheduler checks where that pod fits, not where the evicted one (which carries the old
 * decision's capacity-type requirement) would.
 */
import type { PodView } from '../../core/model.js';
import type { PlacedCapacityType } from './decide.js';
import { applyPlacement, pinnedCapacityType, withoutPlacement } from './inputs.js';
import type { PlacementPatchOptions } from './patch.js';
import { DEFAULT_PLACEMENT_PATCH_OPTIONS } from './patch.js';

/**
 * `pod` as it will be recreated and patched for `capacityType` (undefined: recreated and left
 * alone by the webhook, as for an opted-out workload): the webhook's earlier decision is taken out
 * ({@link withoutPlacement}) and the new one applied as the webhook's patch applies it
 * ({@link applyPlacement}, required), unless the user pinned the pod to a type. Keeps the pod's uid, so fit checks treat it as the evicted
 * pod moving, not a new one.
 *
 * @example
 * const next = replacementPod(pod, 'spot', { capacityLabel, spotToleration });
 * checkFit(state, next, 'spot-node-1');
 */
export function replacementPod(
  pod: PodView,
  capacityType: PlacedCapacityType | undefined,
  options: Partial<PlacementPatchOptions> = DEFAULT_PLACEMENT_PATCH_OPTIONS,
): PodView {
  const recreated = withoutPlacement(pod, options.capacityLabel);
  // The webhook admits a pod the user pinned to a capacity type unchanged.
  if (capacityType === undefined || pinnedCapacityType(recreated.constraints, options.capacityLabel) !== undefined) return recreated;
  return applyPlacement(recreated, { capacityType, required: true }, options);
}
