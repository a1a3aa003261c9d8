/** The model builders the fit tests use; they live in core so every layer's tests share them. */
export { GI, MI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
export type { NodeOverrides, PodOverrides } from '../../core/fixtures.test-helper.js';

import type { NodeView } from '../../core/model.js';
import type { FitState, NodeInfo } from './state.js';

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
