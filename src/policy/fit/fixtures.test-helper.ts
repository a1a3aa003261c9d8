/** The model builders the fit tests use; they live in core so every layer's tests share them. */
export { GI, MI, testNode, testPod, testSnapshot } from '../../core/fixtures.test-helper.js';
export type { NodeOverrides, PodOverrides } from '../../core/fixtures.test-helper.js';
