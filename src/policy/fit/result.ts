/**
 * The outcome of one filter plugin on one node, shaped like the scheduler framework's Status:
 * success, or the plugin that rejected the node and its reason in the scheduler's own words.
 */

/** Why a node was rejected: the plugin and its reason (`Insufficient cpu`). */
export interface FitFailure {
  readonly ok: false;
  /** The filter plugin's name, as the registry (`./registry.ts`) lists it. */
  readonly plugin: string;
  /** The reasons joined with `, ` (`Insufficient cpu, Insufficient memory`). */
  readonly reason: string;
  /**
   * Set when the plugin gave more than one reason (upstream's Status with several reasons, as
   * NodeResourcesFit gives one per lacking resource): the FitError message counts each apart.
   */
  readonly reasons?: readonly string[];
}

/** A filter's verdict for one pod on one node. */
export type FitResult = { readonly ok: true } | FitFailure;

/** The shared success value: filters allocate nothing on the hot path. */
export const FIT_OK: FitResult = Object.freeze({ ok: true });

/** Builds a failure of `plugin` with `reason`, or with several reasons (counted apart in FitError messages). */
export function fitFailure(plugin: string, reason: string | readonly string[]): FitFailure {
  if (typeof reason === 'string') return { ok: false, plugin, reason };
  if (reason.length === 1) return { ok: false, plugin, reason: reason[0] as string };
  return { ok: false, plugin, reason: reason.join(', '), reasons: reason };
}
