/** The model builders the fit tests use; they live in core so every layer's tests share them. */
export { GI, MI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
export type { NodeOverrides, PodOverrides } from '../../core/fixtures.test-helper.js';

import type { NodeView } from '../../core/model.js';
import type { ScorePlugin } from './plugin.js';
import { testNode } from '../../core/fixtures.test-helper.js';
import type { FitState, NodeInfo } from './state.js';

export const HOSTNAME = 'kubernetes.io/hostname';
export const ZONE = 'topology.kubernetes.io/zone';

/** Four nodes in three zones: a1 and a2 in zone-a, b1 in zone-b, c1 in zone-c. */
export function threeZoneNodes(): NodeView[] {
  return [testNode('a1', { zone: 'zone-a' }), testNode('a2', { zone: 'zone-a' }), testNode('b1', { zone: 'zone-b' }), testNode('c1', { zone: 'zone-c' })];
}

/** The node as plugins receive it from `state`; throws when the state does not hold it. */
export function nodeInfoOf(state: FitState, node: NodeView): NodeInfo {
  const info = state.nodeInfo(node.name);
  if (info === undefined) throw new Error(`node "${node.name}" is not in the state`);
  return info;
}

/** {@link nodeInfoOf} for each node. */
export function nodeInfosOf(state: FitState, nodes: readonly NodeView[]): NodeInfo[] {
  return nodes.map((node) => nodeInfoOf(state, node));
}

/** `raw` normalized by the plugin (unchanged when it has no `normalize`), as a plain array. */
export function normalizedOf(plugin: ScorePlugin, raw: readonly number[]): number[] {
  const scores = Float64Array.from(raw);
  plugin.normalize?.(scores, scores.length);
  return Array.from(scores);
}
