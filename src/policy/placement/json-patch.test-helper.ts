/**
 * Applies the RFC 6902 operations `placementPatch` emits (`add` on object members, `-` array
 * appends and indexed inserts) to a JSON document, as the apiserver does, for tests that compare
 * the patch with its model twin.
 */
import type { JsonPatchOperation } from './patch.js';

/** A deep copy of `document` with `ops` applied. */
export function applyJsonPatch<T>(document: T, ops: readonly JsonPatchOperation[]): T {
  const root = structuredClone(document) as unknown;
  for (const op of ops) {
    const tokens = op.path.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const leaf = tokens.pop() as string;
    let parent: unknown = root;
    for (const t of tokens) parent = Array.isArray(parent) ? parent[Number(t)] : (parent as Record<string, unknown>)[t];
    if (parent === undefined || parent === null || typeof parent !== 'object') throw new Error(`Cannot apply ${op.op} at "${op.path}": the parent does not exist`);
    if (Array.isArray(parent)) {
      if (leaf === '-') parent.push(structuredClone(op.value));
      else parent.splice(Number(leaf), 0, structuredClone(op.value));
    } else {
      (parent as Record<string, unknown>)[leaf] = structuredClone(op.value);
    }
  }
  return root as T;
}
