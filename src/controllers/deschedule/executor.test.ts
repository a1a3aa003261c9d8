import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, type AppsV1Api, type CoreV1Api, type V1Node, type V1Taint } from '@kubernetes/client-node';
import { pino } from 'pino';
import { node, pdb, pod, snapshot, workload } from '../../policy/deschedule/fixtures.test-helper.js';
import type { Plan } from '../../policy/deschedule/types.js';
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

const web = [pod('web-a', 'od'), pod('web-b', 'od'), pod('web-c', 'spot')];
const live = snapshot({ nodes: [node('od'), node('spot', { capacityType: 'spot' })], pods: web, workloads: [workload('web', 3)], pdbs: [pdb('web', 'web', { minAvailable: 2, disruptionsAllowed: 1, currentHealthy: 3 })] });

function planOf(): Plan {
  const move = (name: string, wave: number) => ({
    pod: { namespace: 'default', name, uid: `uid-default-${name}` },
    workload: { kind: 'Deployment' as const, namespace: 'default', name: 'web' },
    fromNode: 'od',
    toNode: 'spot',
    strategy: 'spot-reschedule' as const,
    mode: 'evict' as const,
    wave,
    reason: { code: 'pdb-allows' as const, message: 'test' },
    savingUsdPerHour: 0.1,
  });
  return {
    moves: [move('web-a', 0), move('web-b', 1)],
    drains: [{ node: 'od', strategy: 'spot-reschedule', savingUsdPerHour: 0.2, pods: [web[0], web[1]].map((p) => ({ namespace: 'default', name: p?.name ?? '', uid: p?.uid ?? '' })), staying: [], reason: { code: 'drain-empties', message: 'test' } }],
    skipped: [],
    savingUsdPerHour: 0.2,
  };
}

describe('PlanExecutor', () => {
  test('a PDB refusal (429) stops the drain: the node is untainted, the failure remembered', async () => {
    const fake = fakeCluster({ evictStatus: 429 });
    const executor = new PlanExecutor({ core: fake.core, apps: fake.apps, readSnapshot: async () => live, log, backoff: { baseMs: 1000, maxMs: 10_000 }, now: () => 5_000, pollMs: 1 });
    const report = await executor.execute(planOf(), 'p1');
    assert.equal(report.drains[0]?.outcome, 'failed');
    assert.equal(report.drains[0]?.reason.code, 'eviction-refused');
    assert.match(report.drains[0]?.reason.message ?? '', /^Cannot evict pod "default\/web-a": the apiserver refused/);
    assert.deepEqual(fake.evictions, ['web-a'], 'nothing after the refusal');
    assert.deepEqual(fake.history, [{ node: 'od', tainted: true, annotated: true }, { node: 'od', tainted: false, annotated: false }]);
    assert.deepEqual(executor.failures.get('od'), { count: 1, lastAt: 5_000 });
  });

  test('waves run in order, and the node ends untainted after a drain that worked', async () => {
    const fake = fakeCluster({});
    const executor = new PlanExecutor({ core: fake.core, apps: fake.apps, readSnapshot: async () => live, log, backoff: { baseMs: 1000, maxMs: 10_000 }, pollMs: 1 });
    const report = await executor.execute(planOf(), 'p2');
    assert.equal(report.drains[0]?.outcome, 'done');
    assert.deepEqual(fake.evictions, ['web-a', 'web-b']);
    assert.equal(fake.history.at(-1)?.tainted, false);
    assert.equal(report.realisedSavingUsdPerHour, 0.2);
  });

  test('a drain whose PDB no longer allows a disruption is not started: no taint at all', async () => {
    const fake = fakeCluster({});
    const blocked = { ...live, pdbs: [pdb('web', 'web', { minAvailable: 3, disruptionsAllowed: 0, currentHealthy: 3 })] };
    const executor = new PlanExecutor({ core: fake.core, apps: fake.apps, readSnapshot: async () => blocked, log, backoff: { baseMs: 1000, maxMs: 10_000 }, pollMs: 1 });
    const report = await executor.execute(planOf(), 'p3');
    assert.equal(report.drains[0]?.outcome, 'skipped');
    assert.equal(report.drains[0]?.reason.code, 'pdb');
    assert.match(report.drains[0]?.reason.message ?? '', /PodDisruptionBudget "default\/web" allows 0 disruptions/);
    assert.deepEqual(fake.history, []);
    assert.deepEqual(fake.evictions, []);
  });

  test('at start-up, a drain left by a crashed run is rolled back, other taints kept', async () => {
    const other = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    const fake = fakeCluster({
      nodes: [
        { metadata: { name: 'od', resourceVersion: '7', annotations: { [DRAIN_ANNOTATION]: JSON.stringify({ planId: 'old', startedAt: '2026-01-01T00:00:00Z', strategy: 'spot-reschedule', pods: [], previous: { hadTaint: false, unschedulable: false } }) } }, spec: { taints: [other, { key: DRAINING_TAINT.key, value: 'true', effect: 'NoSchedule' }] } },
        { metadata: { name: 'clean', resourceVersion: '1' }, spec: {} },
      ],
    });
    const executor = new PlanExecutor({ core: fake.core, apps: fake.apps, readSnapshot: async () => live, log, backoff: { baseMs: 1000, maxMs: 10_000 } });
    assert.deepEqual(await executor.recover(), ['od']);
    assert.deepEqual(fake.nodes.get('od')?.spec?.taints, [other]);
    assert.equal(fake.nodes.get('od')?.metadata?.annotations?.[DRAIN_ANNOTATION], undefined);
  });
  test('a move outside any drain (balance) evicts that pod alone, without tainting its node', async () => {
    const fake = fakeCluster({});
    const executor = new PlanExecutor({ core: fake.core, apps: fake.apps, readSnapshot: async () => live, log, backoff: { baseMs: 1000, maxMs: 10_000 }, pollMs: 1 });
    const full = planOf();
    const report = await executor.execute({ moves: [{ ...(full.moves[0] as Plan['moves'][number]), strategy: 'balance', savingUsdPerHour: 0 }], drains: [], skipped: [], savingUsdPerHour: 0 }, 'p4');
    assert.equal(report.drains[0]?.outcome, 'done', report.drains[0]?.reason.message);
    assert.deepEqual(fake.evictions, ['web-a']);
    assert.deepEqual(fake.history, []);
  });
});
