/**
 * spot-reschedule: drain on-demand nodes whose pods all fit on spot nodes, after the pusher
 * k8s-spot-rescheduler: on-demand nodes least requested first, spot nodes most free first; a node
 * is drained only when every pod that must move has a spot destination, counting the pods
 * planned before it. The on-demand floor's pods stay: their replacements would come straight back.
 *
 * A drain must free something: the node (every pod but the floor's moves, none stays), or room a
 * pending pod waits for (a pod that fits no node now fits the node once the others moved, so the
 * autoscaler need not add an on-demand node for it). A drain that leaves the node holding floor
 * pods and frees nothing only trades disruption for no saving, so it is skipped unless
 * `onlyWhenEmptied` is turned off.
 *
 * Pods that fell back to on-demand while spot had no room share on-demand nodes with the floor's
 * pods, so moving them alone rarely frees a node. Such a node is then drained whole when that
 * frees it: each pod goes where the webhook will send its replacement (the replicas above the
 * floor to spot, the floor's to another on-demand node that stays, fullest first), so the
 * on-demand pool holds the same floor on one node less. The saving is the node's price, as
 * Karpenter's consolidation counts a deletion; a drain that would not empty the node is not made.
 */
import { z } from 'zod';
import type { ClusterSnapshot } from '../../../core/model.js';
import { checkFit } from '../../fit/filter.js';
import type { SkippedNode, StrategyResult } from '../types.js';
import type { Move, NodeDrain } from '../types.js';
import { reason } from '../reasons.js';
import type { Reason } from '../reasons.js';
import type { DrainAttempt } from '../session.js';
import type { Strategy, StrategyContext } from './strategy.js';
import { requestedFractions, sortNodes } from './strategy.js';

/** The `strategies.spot-reschedule` config. */
export const spotRescheduleConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Skip a node whose drain would leave floor pods on it, unless it frees room a pending pod waits for. */
  onlyWhenEmptied: z.boolean().default(true),
});
/** The parsed `strategies.spot-reschedule` config. */
export type SpotRescheduleConfig = z.infer<typeof spotRescheduleConfigSchema>;

/** Plans spot-reschedule; see the module comment. */
export function planSpotReschedule(snapshot: ClusterSnapshot, config: SpotRescheduleConfig, ctx: StrategyContext): StrategyResult {
  const { session } = ctx;
  const strategy = 'spot-reschedule';
  const moves: Move[] = [];
  const drains: NodeDrain[] = [];
  const skipped: SkippedNode[] = [];
  const fractions = (name: string): { readonly cpu: number; readonly memory: number } => {
    const node = session.node(name);
    return requestedFractions(session.state.requested(name), node?.allocatable ?? {});
  };
  const onDemand = sortNodes(
    snapshot.nodes.filter((n) => n.capacityType === 'on-demand').map((n) => n.name),
    (name) => [fractions(name).cpu, fractions(name).memory],
  );
  const spot = sortNodes(
    snapshot.nodes.filter((n) => n.capacityType === 'spot' && n.ready && !n.unschedulable).map((n) => n.name),
    (name) => {
      const free = session.free(name);
      return [-(free['cpu'] ?? 0), -(free['memory'] ?? 0)];
    },
  );
  // The on-demand nodes that stay, fullest first (where a whole drain's floor pods go): they change
  // only when a drain is planned, so they are sorted once per planned drain, not once per candidate.
  let staying: readonly string[] | undefined;
  const stayingFullestFirst = (): readonly string[] =>
    (staying ??= sortNodes(
      onDemand.filter((n) => !session.isDrained(n) && session.node(n)?.ready === true && session.node(n)?.unschedulable !== true),
      (n) => [-fractions(n).cpu, -fractions(n).memory],
    ));
  // A whole drain's targets, one list for every candidate until a drain is planned (the session
  // splits a list by capacity type once per list, and passes over the node drained itself).
  let wholeTargets: readonly string[] | undefined;
  const wholeDrainTargets = (): readonly string[] => (wholeTargets ??= [...spot, ...stayingFullestFirst()]);
  for (const name of onDemand) {
    const node = session.node(name);
    if (node === undefined) continue;
    const skip = session.nodeSkipReason(node) ?? (spot.length === 0 ? reason('no-spot-node', 'No spot node is Ready and schedulable') : undefined);
    if (skip !== undefined) {
      skipped.push({ node: name, strategy, reason: skip });
      continue;
    }
    const attempt = session.tryDrain(name, {
      strategy,
      targets: spot,
      keepFloor: true,
      // Without the webhook nothing pins a replacement to spot: the executor checks where it ran.
      landOn: 'spot',
      why: `On-demand node "${name}" can move its pods to spot`,
      accept: ({ emptied }) =>
        config.onlyWhenEmptied && !emptied && session.stuckPendingPods().length === 0
          ? reason('not-worth-it', `Node "${name}" would keep pods of an on-demand floor, and no pending pod waits for the room its drain frees`)
          : undefined,
      confirmKept: (target) => {
        if (!config.onlyWhenEmptied) return undefined;
        const waiting = session.stuckPendingPods().find((pod) => checkFit(session.state, pod, target).ok);
        return waiting === undefined ? reason('not-worth-it', `Node "${name}" would keep pods of an on-demand floor, and its drain frees no room a pending pod waits for`) : undefined;
      },
    });
    const result = attempt.ok || attempt.reason.code !== 'not-worth-it' || !config.onlyWhenEmptied ? attempt : drainWhole(name, attempt.reason);
    if (result.ok) {
      drains.push(result.drain);
      moves.push(...result.moves);
      staying = undefined;
      wholeTargets = undefined;
    } else {
      skipped.push({ node: name, strategy, reason: result.reason });
    }
  }
  return { moves, drains, skipped };

  /** The node drained whole, so it goes (see the module comment), or why not: `kept` extended with what held it. */
  function drainWhole(name: string, kept: Reason): DrainAttempt {
    // Where floor pods go: on-demand nodes that stay, the fullest first, so the floor packs onto fewer nodes.
    if (!stayingFullestFirst().some((n) => n !== name)) return { ok: false, reason: kept };
    const attempt = session.tryDrain(name, {
      strategy,
      targets: wholeDrainTargets(),
      // The other on-demand nodes differ from candidate to candidate (this one is left out).
      boundsPerDrain: true,
      keepFloor: false,
      landOn: 'spot',
      // The node is drained so it goes: a pod that can't lose a replica must not land on another node the autoscaler will remove.
      surgeAvoidsRemovalCandidates: true,
      why: `On-demand node "${name}" can move its pods above the on-demand floor to spot and its floor's pods to other on-demand nodes`,
    });
    return attempt.ok ? attempt : { ok: false, reason: reason('not-worth-it', `${kept.message}; draining it whole fails: ${attempt.reason.message}`) };
  }
}

/** The spot-reschedule strategy, for the registry. */
export const spotReschedule: Strategy<'spot-reschedule', SpotRescheduleConfig> = {
  name: 'spot-reschedule',
  configSchema: spotRescheduleConfigSchema,
  plan: planSpotReschedule,
};
