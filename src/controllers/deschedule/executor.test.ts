import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type AppsV1Api, type CoreV1Api, type V1Node, type V1Taint } from '@kubernetes/client-node';
import { pino } from 'pino';
import { node, snapshot } from '../../policy/deschedule/fixtures.test-helper.js';
import { DRAIN_ANNOTATION, DRAINING_TAINT } from './drain-state.js';
import { PlanExecutor } from './executor.js';

const log = pino({ level: 'silent' });

/** A node store that applies merge patches the way the apiserver does for these fields. */
function fakeCluster(options: { readonly evictStatus?: number; readonly nodes?: readonly V1Node[] }) {
  const nodes = new Map<string, V1Node>((options.nodes ?? [{ metadata: { name: 'od', resourceVersion: '1', annotations: {} }, spec: { taints: [] } }]).map((n) => [n.metadata?.name ?? '', n]));
  const history: { readonly node: string; readonly tainted: boolean; readonly annotated: boolean }[] = [];
  const evictions: string[] = [];
  const core = {
    listNode: async () => ({ items: [...nodes.values()] }),
    readNode: async ({ name }: { name: string }) => structuredClone(nodes.get(name)),
    patchNode: async ({ name, body }: { name: string; body: { metadata: { annotations: Record<string, string | null> }; spec: { taints: V1Taint[] } } }) => {
      const n = nodes.get(name) as V1Node;
      const annotations: Record<string, string> = { ...n.metadata?.annotations };
      for (const [k, v] of Object.entries(body.metadata.annotations)) {
        if (v === null) delete annotations[k];
        else annotations[k] = v;
      }
      const next: V1Node = { metadata: { ...n.metadata, annotations, resourceVersion: String(Number(n.metadata?.resourceVersion ?? 0) + 1) }, spec: { ...n.spec, taints: body.spec.taints } };
      nodes.set(name, next);
      history.push({ node: name, tainted: body.spec.taints.some((t) => t.key === DRAINING_TAINT.key), annotated: annotations[DRAIN_ANNOTATION] !== undefined });
      return next;
    },
    createNamespacedPodEviction: async ({ name }: { name: string }) => {
      evictions.push(name);
      if (options.evictStatus !== undefined) throw new ApiException(options.evictStatus, 'refused', JSON.stringify({ message: 'Cannot evict pod as it would violate the pod\'s disruption budget.' }), {});
      return {};
    },
    readNamespacedPod: async () => Promise.reject(new ApiException(404, 'gone', '{}', {})),
    // Three Ready replicas whenever asked: each replacement is up by the time it is looked for.
    listNamespacedPod: async () => ({ items: ['x', 'y', 'z'].map((n) => ({ metadata: { name: n, uid: n, labels: { app: 'web' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })) }),
    createNamespacedEvent: async () => ({}),
  } as unknown as CoreV1Api;
  const apps = {
    listDeploymentForAllNamespaces: async () => ({ items: [] }),
    readNamespacedDeployment: async () => ({ metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } } }),
  } as unknown as AppsV1Api;
  return { core, apps, nodes, history, evictions };
}

describe('PlanExecutor', () => {
  test('at start-up, a drain left by a crashed run is rolled back, other taints kept', async () => {
    const other = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    const fake = fakeCluster({
      nodes: [
        { metadata: { name: 'od', resourceVersion: '7', annotations: { [DRAIN_ANNOTATION]: JSON.stringify({ planId: 'old', startedAt: '2026-01-01T00:00:00Z', strategy: 'spot-reschedule', pods: [], previous: { hadTaint: false, unschedulable: false } }) } }, spec: { taints: [other, { key: DRAINING_TAINT.key, value: 'true', effect: 'NoSchedule' }] } },
        { metadata: { name: 'clean', resourceVersion: '1' }, spec: {} },
      ],
    });
    // The snapshot (the cache, synced at start) shows what the nodes carry.
    const seen = snapshot({ nodes: [...fake.nodes.values()].map((n) => node(n.metadata?.name ?? '', { annotations: n.metadata?.annotations ?? {}, taints: (n.spec?.taints ?? []) as never })), pods: [] });
    const executor = new PlanExecutor({ core: fake.core, apps: fake.apps, readSnapshot: async () => seen, log });
    assert.deepEqual(await executor.recover(), { nodes: ['od'], deployments: [], claims: [] });
    assert.deepEqual(fake.nodes.get('od')?.spec?.taints, [other]);
    assert.equal(fake.nodes.get('od')?.metadata?.annotations?.[DRAIN_ANNOTATION], undefined);
  });
});
