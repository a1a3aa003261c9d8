/** Comparing snapshots from two readers of the same cluster. */
import assert from 'node:assert/strict';
import { DEFAULT_CAPACITY_TYPE_RULES } from '../../../src/core/capacity.js';
import type { ClusterSnapshot } from '../../../src/core/model.js';
import { readClusterSnapshot } from '../../../src/kube/read-snapshot.js';
import type { TestCluster } from './cluster.js';

/** The first difference between two snapshots (time aside), for a readable failure. */
export function firstDifference(a: ClusterSnapshot, b: ClusterSnapshot): string | undefined {
  for (const key of ['nodes', 'pods', 'workloads', 'pdbs'] as const) {
    const x = a[key] as readonly unknown[];
    const y = b[key] as readonly unknown[];
    if (x.length !== y.length) return `${key}: ${x.length} against ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      try {
        assert.deepStrictEqual(x[i], y[i]);
      } catch {
        return `${key}[${i}]: ${JSON.stringify(x[i]).slice(0, 600)}\n  against ${JSON.stringify(y[i]).slice(0, 600)}`;
      }
    }
  }
  return undefined;
}

/**
 * Waits (30 s at most) until `take()` gives the snapshot the LIST reader reads: a watch may trail
 * the LISTs a little, but a difference that stays is a failure. Returns the LIST reader's snapshot.
 */
export async function assertSameAsLists(c: TestCluster, take: () => Promise<ClusterSnapshot> | ClusterSnapshot, what: string): Promise<ClusterSnapshot> {
  let difference: string | undefined = 'not compared yet';
  let listed: ClusterSnapshot | undefined;
  const deadline = Date.now() + 30_000;
  while (difference !== undefined && Date.now() < deadline) {
    listed = await readClusterSnapshot(c.kc, { capacityRules: DEFAULT_CAPACITY_TYPE_RULES });
    difference = firstDifference(await take(), listed);
    if (difference !== undefined) await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal(difference, undefined, `${what} differs from the LIST reader's: ${difference}`);
  return listed as ClusterSnapshot;
}
