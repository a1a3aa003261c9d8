/**
 * The outcome of one filter plugin on one node, shaped like the scheduler framework's Status:
 * success, or the plugin that rejected the node and its reason in the scheduler's own words.
 */

/** Why a node was rejected: the plugin and its reason (`Insufficient cpu`). */
export interface FitFailure {
  readonly ok: false;
  /** The filter plugin's name, as the registry (`./registry.ts`) lists it. */
  readonly plugin: string;
  readonly reason: string;
}

/** A filter's verdict for one pod on one node. */
export type FitResult = { readonly ok: true } | FitFailure;

/** The shared success value: filters allocate nothing on the hot path. */
export const FIT_OK: FitResult = Object.freeze({ ok: true });

/** Builds a failure of `plugin` with `reason`. */
export function fitFailure(plugin: string, reason: string): FitFailure {
  return { ok: false, plugin, reason };
}
