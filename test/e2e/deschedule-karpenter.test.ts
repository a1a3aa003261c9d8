/**
 * karpenter-consolidate deletes and replaces nodes, live, through Karpenter: on the real control
 * plane with Karpenter's KWOK provider.
 *
 * - **Delete.** Two nodes of one NodePool each run a single-replica Deployment whose pod would
 *   fit beside the other. Karpenter's own consolidation is off for the pool (`consolidateAfter:
 *   Never`: a user who keeps Karpenter from evicting single replicas without a spare).
 *   `stowage deschedule --once` drains one node surge-first and deletes its NodeClaim; Karpenter
 *   terminates the node. Checked through the API: the node and its NodeClaim are gone, both pods
 *   serve on the other node, neither Deployment ever had fewer than one Ready pod (watched
 *   throughout), and nothing is left tainted.
 * - **Replace.** One m5.2xlarge of a NodePool that also allows the m5.xlarge (half the price)
 *   runs pods that fit on the smaller one. Karpenter's own disruption is off for the pool
 *   (`consolidateAfter: Never`, a budget of 0 nodes for drift; 1 for the rest, which the descheduler keeps). While the pool's `nodes` limit leaves no
 *   room, nothing is planned. With room but a node class whose nodes register only after 10
 *   minutes, the launch fails live: its NodeClaim is deleted, nothing is tainted, no pod moved.
 *   With its own node class again, `stowage deschedule --once` creates a NodeClaim of an
 *   m5.xlarge from the pool, waits for the node it names to be Ready, moves the pods onto it
 *   surge-first, and deletes the old node's NodeClaim. Checked through the API: the pods run on
 *   the new m5.xlarge node, exactly one NodeClaim was made, the old node and claim are gone, no
 *   Deployment went below its floor (watched), nothing is left tainted. While the pods move onto
 *   it, the new node carries Cluster Autoscaler's `scale-down-disabled` and Karpenter's
 *   `do-not-disrupt` annotations (watched: no autoscaler may take it while a single replica
 *   could be alone on it); once it holds enough, they are gone again.
 * - **Several by one.** Two m5.xlarge nodes of a pool each run one single replica of 2500m (they
 *   do not fit together on one); the pool then allows the c5.2xlarge too ($0.34/h against $0.384/h
 *   for the two) and two nodes disrupted at once. `stowage deschedule --once` plans one action for
 *   the set (Karpenter's multi-node replace), taints both, creates one NodeClaim of a c5.2xlarge,
 *   moves both pods onto its node surge-first and deletes both old NodeClaims. Checked through the
 *   API: both pods serve on the new node, both old nodes and claims are gone, the pool has exactly
 *   the one new NodeClaim, nothing is left tainted, neither Deployment ever had fewer than one
 *   Ready pod (watched).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { NODE_POOLS } from '../../src/kube/node-pools.js';
import { NODE_GROUP_LABEL } from '../../src/tenants/classes.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { writeDeschedulerConfig } from './support/descheduler-config.js';
import { runCli } from './support/exec.js';
import { claimsOf, deployOnPool, INSTANCE_TYPE, nodePool, patchPool, poolCounts, poolReady } from './support/karpenter.js';
import { MinReadyWatch, servesTraffic } from './support/ready-watch.js';
import { podsOf, setCordoned } from './support/workloads.js';

// As Cluster Autoscaler's FAQ and Karpenter's disruption docs name them (and Stowage's record): written out, not imported, so the test checks the names.
const SCALE_DOWN_DISABLED = 'cluster-autoscaler.kubernetes.io/scale-down-disabled';
const DO_NOT_DISRUPT = 'karpenter.sh/do-not-disrupt';
const PROTECTED = 'stowage.io/scale-down-protected';

const cluster = useCluster({ autoscaler: 'karpenter', podStartupMs: 1000 });
const POOL = 'large';
const NS = 'karpenter-consolidate';
const APPS = ['alpha', 'beta'] as const;
const dir = mkdtempSync(join(tmpdir(), 'stowage-deschedule-karpenter-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function poolNodes(c: TestCluster): Promise<V1Node[]> {
  return (await c.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=${POOL}` })).items;
}

async function nodeClaims(c: TestCluster): Promise<{ name: string; nodeName: string }[]> {
  return (await claimsOf(c)).map(({ name, nodeName }) => ({ name, nodeName }));
}

/** A Deployment for the pool's nodes, waited for until its pods serve; their node. */
function deploy(c: TestCluster, name: string, options: { ns?: string; pool?: string; replicas?: number; cpu?: string } = {}): Promise<string> {
  return deployOnPool(c, options.ns ?? NS, name, options.pool ?? POOL, options);
}

/** The nodes with a `stowage.io/` taint or the drain record, through the API. */
async function nodesMarkedByStowage(c: TestCluster): Promise<string[]> {
  const nodes = (await c.core.listNode()).items;
  return nodes.filter((n) => (n.spec?.taints ?? []).some((t) => t.key.startsWith('stowage.io/')) || n.metadata?.annotations?.['stowage.io/drain'] !== undefined || n.metadata?.annotations?.[PROTECTED] !== undefined).map((n) => n.metadata?.name ?? '');
}

/** Prints each watched workload's lowest Ready count and asserts it never went below its floor. */
function assertFloors(watched: readonly { readonly app: string; readonly floor: number; readonly watch: MinReadyWatch }[]): void {
  for (const { app, floor, watch } of watched) {
    process.stdout.write(`# ${app}: lowest Ready ${floor} expected, seen ${watch.minReady} over ${watch.events} watch events, ${watch.uids.length} pod(s)\n`);
    assert.ok(watch.minReady >= floor, `${app} never dropped below its floor of ${floor} Ready`);
  }
}

describe('karpenter-consolidate with Karpenter', () => {
  before(async () => {
    const c = cluster();
    // Karpenter's own consolidation off for the pool: the descheduler is the one that consolidates.
    await c.kc.makeApiClient(CustomObjectsApi).patchClusterCustomObject(
      { group: 'karpenter.sh', version: 'v1', plural: 'nodepools', name: POOL, body: { spec: { disruption: { consolidateAfter: 'Never' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await createNamespace(c.core, NS);
  });

  test('an emptied node is deleted through its NodeClaim, with every single replica kept serving', { timeout: 8 * 60_000 }, async () => {
    const c = cluster();
    const first = await deploy(c, 'alpha');
    // The second pod gets a node of its own: Karpenter launches one while the first is cordoned.
    await setCordoned(c, [first], true);
    let second: string;
    try {
      second = await deploy(c, 'beta');
    } finally {
      await setCordoned(c, [first], false);
    }
    assert.notEqual(first, second);
    assert.equal((await poolNodes(c)).length, 2);
    const claimsBefore = await nodeClaims(c);
    assert.deepEqual(claimsBefore.map((cl) => cl.nodeName).sort(), [first, second].sort(), 'each node has its NodeClaim');

    const watches = APPS.map((app) => new MinReadyWatch(c, NS, `app=${app}`, 1));
    await Promise.all(watches.map((w) => w.start()));
    try {
      const config = writeDeschedulerConfig(dir, 'karpenter', [], {
        strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: true, settleSeconds: 0 } }',
      });
      const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', config, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'info' });
      assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
      const report = (JSON.parse(result.stdout) as { report?: { drains: { node: string; outcome: string; strategy: string }[] } }).report;
      const done = report?.drains.filter((d) => d.outcome === 'done') ?? [];
      assert.equal(done.length, 1, JSON.stringify(report));
      const drained = done[0]?.node ?? '';
      const kept = drained === first ? second : first;
      assert.ok([first, second].includes(drained));
      assert.match(result.stderr, /Deleted the drained node's NodeClaim/);

      // Karpenter terminates it: the Node and its NodeClaim go.
      await waitFor(`node "${drained}" to be gone`, async () => !(await poolNodes(c)).some((n) => n.metadata?.name === drained), { timeoutMs: 120_000, intervalMs: 500 });
      await waitFor('its NodeClaim to be gone', async () => !(await nodeClaims(c)).some((cl) => cl.nodeName === drained), { timeoutMs: 120_000, intervalMs: 500 });
      for (const app of APPS) {
        const pods = await podsOf(c, NS, app);
        assert.deepEqual(pods.map((p) => [p.spec?.nodeName, servesTraffic(p)]), [[kept, true]], `${app} serves on "${kept}"`);
      }
      const remaining = await poolNodes(c);
      assert.deepEqual(remaining.map((n) => n.metadata?.name), [kept]);
      assert.deepEqual((remaining[0]?.spec?.taints ?? []).filter((t) => t.key.startsWith('stowage.io/')), [], 'nothing of Stowage left on the node that stays');
    } finally {
      await Promise.all(watches.map((w) => w.stop()));
    }
    for (const [i, app] of APPS.entries()) {
      const watch = watches[i] as MinReadyWatch;
      process.stdout.write(`# ${app}: lowest Ready 1 expected, seen ${watch.minReady} over ${watch.events} watch events, ${watch.uids.length} pod(s)\n`);
      assert.equal(watch.minReady, 1, `${app} never dropped below its one Ready replica`);
    }
  });
});

const RPOOL = 'replace';
const RNS = 'karpenter-replace';
const KWOK_CLASSES = { group: 'karpenter.kwok.sh', version: 'v1alpha1', plural: 'kwoknodeclasses' } as const;

/** The replace test's NodePool: on-demand in us-east-1a, of `types`, at most `nodes` nodes; Karpenter disrupts none of its nodes itself. */
function replacePool(types: readonly string[], nodes: string): Record<string, unknown> {
  return nodePool(RPOOL, types, nodes);
}

/** A KWOK node class whose nodes register only after 10 minutes: a launch from it does not come up in a test's time. */
const SLOW_CLASS = 'slow';

async function replaceClaims(c: TestCluster): Promise<{ name: string; nodeName: string; instanceType: string }[]> {
  return (await claimsOf(c, RPOOL)).filter((cl) => !cl.deleting).map(({ name, nodeName, instanceType }) => ({ name, nodeName, instanceType }));
}

describe('karpenter-consolidate replaces a node by a cheaper one through Karpenter', () => {
  const REPLACE_APPS = [
    { app: 'gamma', replicas: 1, cpu: '1500m', floor: 1 },
    { app: 'delta', replicas: 2, cpu: '1000m', floor: 1 },
  ] as const;

  before(async () => {
    const c = cluster();
    const custom = c.kc.makeApiClient(CustomObjectsApi);
    // Only the big type at first, one node at most: Karpenter launches the m5.2xlarge.
    await custom.createClusterCustomObject({ ...NODE_POOLS, body: replacePool(['m5.2xlarge'], '1') });
    await poolReady(c, RPOOL);
    // The slow node class, Ready as the dev cluster marks its own (the KWOK provider has no controller for it).
    await custom.createClusterCustomObject({ ...KWOK_CLASSES, body: { apiVersion: 'karpenter.kwok.sh/v1alpha1', kind: 'KWOKNodeClass', metadata: { name: SLOW_CLASS }, spec: { nodeRegistrationDelay: '10m' } } });
    await custom.patchClusterCustomObjectStatus(
      { ...KWOK_CLASSES, name: SLOW_CLASS, body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await createNamespace(c.core, RNS);
  });

  test('no launch while the pool is at its limit; a launch that does not come up leaves nothing behind; then a NodeClaim of the cheaper type, the pods moved onto its node, the old node gone', { timeout: 8 * 60_000 }, async () => {
    const c = cluster();
    const big = await deploy(c, 'gamma', { ns: RNS, pool: RPOOL });
    await c.policy.createNamespacedPodDisruptionBudget({ namespace: RNS, body: { metadata: { name: 'delta' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'delta' } } } } });
    assert.equal(await deploy(c, 'delta', { ns: RNS, pool: RPOOL, replicas: 2, cpu: '1000m' }), big, 'delta joins gamma on the one node of the pool');
    const before = await replaceClaims(c);
    assert.deepEqual(before.map((cl) => [cl.nodeName, cl.instanceType]), [[big, 'm5.2xlarge']]);
    // The pool now allows the m5.xlarge too (3.5 of its ~3.9 allocatable cpus would be requested), but its limit is one node.
    await patchPool(c, RPOOL, { template: (replacePool(['m5.xlarge', 'm5.2xlarge'], '1').spec as { template: unknown }).template });
    const config = writeDeschedulerConfig(dir, 'karpenter-replace', [], {
      strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: true, settleSeconds: 0 } }',
    });
    const args = ['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', config, '--once', '-o', 'json'];

    // At its limit: no replacement is offered, so none is planned, and nothing else moves.
    const dry = await runCli([...args.slice(0, -3), '--dry-run', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'info' });
    assert.equal(dry.code, 0, dry.stderr);
    const atLimit = JSON.parse(dry.stdout) as { status: { launches?: unknown[]; drains: { node: string }[]; skipped: { node: string; strategy: string; reason: { code: string } }[] } };
    assert.equal(atLimit.status.launches, undefined, dry.stdout);
    assert.ok(!atLimit.status.drains.some((d) => d.node === big), 'the node is not drained without a replacement');
    assert.deepEqual(atLimit.status.skipped.filter((s) => s.node === big && s.strategy === 'karpenter-consolidate').map((s) => s.reason.code), ['no-fit']);
    assert.match(dry.stderr, /"nodePool":"replace","reason":"Its limit nodes: 1 leaves no room for one more node \(1 in use\)","msg":"NodePool offers no replacement node"/);

    // Room for one more node, but its node class registers nodes only after 10 minutes: the launch
    // fails live. The NodeClaim is deleted, nothing is left tainted, no pod moved.
    const podsBefore = await Promise.all(REPLACE_APPS.map(async (a) => (await podsOf(c, RNS, a.app)).map((p) => `${p.metadata?.uid}@${p.spec?.nodeName}`).sort()));
    await patchPool(c, RPOOL, { limits: { nodes: '2' }, template: { spec: { nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: SLOW_CLASS } } } });
    await poolReady(c, RPOOL);
    const slowConfig = writeDeschedulerConfig(dir, 'karpenter-replace-slow', [], {
      strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: true, settleSeconds: 0 } }',
      replacementTimeoutSeconds: 15,
    });
    const slow = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', slowConfig, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'info' });
    assert.equal(slow.code, 2, `a failed launch exits 2: ${slow.stderr}`);
    const failedRun = JSON.parse(slow.stdout) as { report?: { drains: { node: string; outcome: string; reason: { code: string; message: string } }[] } };
    assert.deepEqual(failedRun.report?.drains.map((d) => `${d.node}:${d.outcome}:${d.reason.code}`), [`replacement-for-${big}:failed:launch-failed`, `${big}:skipped:launch-failed`]);
    assert.match(failedRun.report?.drains[0]?.reason.message ?? '', /named no node within 15s/);
    const made = /"nodeClaim":"([^"]+)","offer"/.exec(slow.stderr)?.[1] ?? '';
    assert.notEqual(made, '', 'a NodeClaim was created');
    await waitFor(`NodeClaim "${made}" to be gone`, async () => (await replaceClaims(c)).every((cl) => cl.name !== made), { timeoutMs: 60_000, intervalMs: 500 });
    assert.deepEqual((await replaceClaims(c)).map((cl) => cl.nodeName), [big], 'nothing left of the failed launch');
    assert.deepEqual(await Promise.all(REPLACE_APPS.map(async (a) => (await podsOf(c, RNS, a.app)).map((p) => `${p.metadata?.uid}@${p.spec?.nodeName}`).sort())), podsBefore, 'no pod moved');
    const bigNode = await c.core.readNode({ name: big });
    assert.deepEqual((bigNode.spec?.taints ?? []).filter((t) => t.key.startsWith('stowage.io/')), [], 'the node is untainted');
    assert.equal(bigNode.metadata?.annotations?.['stowage.io/drain'], undefined);
    // The failed launch is told on the node it was to replace (the launch's own name is no node).
    const told = (await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.kind=Node,involvedObject.name=${big}` })).items;
    assert.ok(
      told.some((e) => e.reason === 'DrainFailed' && /named no node within 15s/.test(e.message ?? '')),
      `a DrainFailed Event on node "${big}": ${JSON.stringify(told.map((e) => [e.reason, e.message]))}`,
    );

    // The pool's own node class again: the replacement.
    await patchPool(c, RPOOL, { template: { spec: { nodeClassRef: { group: 'karpenter.kwok.sh', kind: 'KWOKNodeClass', name: 'default' } } } });
    await poolReady(c, RPOOL);
    // The failed launch's claim is gone; once the pool's counter says so too, it has room for one more.
    await poolCounts(c, RPOOL, 1);
    const watches = REPLACE_APPS.map((a) => new MinReadyWatch(c, RNS, `app=${a.app}`, a.replicas));
    await Promise.all(watches.map((w) => w.start()));
    let replacement = '';
    // Nodes seen protected from scale-down while the CLI runs, looked at every 200 ms.
    const protectedSeen = new Set<string>();
    let running = true;
    const looking = (async (): Promise<void> => {
      while (running) {
        const nodes = await c.core.listNode().catch(() => ({ items: [] as V1Node[] }));
        for (const n of nodes.items) {
          const a = n.metadata?.annotations ?? {};
          if (a[SCALE_DOWN_DISABLED] === 'true' && a[DO_NOT_DISRUPT] === 'true' && a[PROTECTED] !== undefined) protectedSeen.add(n.metadata?.name ?? '');
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const result = await runCli(args, { STOWAGE_LOG_LEVEL: 'info' }).finally(() => {
        running = false;
      });
      await looking;
      assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
      const out = JSON.parse(result.stdout) as { status: { launches?: { offer: { instanceType: string }; replaces: string[] }[] }; report?: { drains: { node: string; outcome: string; reason: { message: string } }[] } };
      assert.deepEqual(out.status.launches?.map((l) => [l.offer.instanceType, l.replaces]), [['m5.xlarge', [big]]], result.stdout);
      const outcomes = out.report?.drains.map((d) => `${d.node}:${d.outcome}`) ?? [];
      assert.deepEqual(outcomes, [`replacement-for-${big}:done`, `${big}:done`], JSON.stringify(out.report));
      replacement = /launched as node "([^"]+)"/.exec(out.report?.drains[0]?.reason.message ?? '')?.[1] ?? '';
      assert.notEqual(replacement, '');
      assert.match(result.stderr, /Created a NodeClaim for a replacement node/);
      assert.match(result.stderr, /Deleted the drained node's NodeClaim/);
      assert.deepEqual([...protectedSeen], [replacement], 'the new node, and only it, was protected from scale-down while it filled');

      // Karpenter terminates the old node; exactly one NodeClaim, the new one, names the new node.
      await waitFor(`node "${big}" to be gone`, async () => (await c.core.listNode()).items.every((n) => n.metadata?.name !== big), { timeoutMs: 120_000, intervalMs: 500 });
      await waitFor('the old NodeClaim to be gone', async () => (await replaceClaims(c)).every((cl) => cl.nodeName !== big), { timeoutMs: 120_000, intervalMs: 500 });
      const after = await replaceClaims(c);
      assert.deepEqual(after.map((cl) => [cl.nodeName, cl.instanceType]), [[replacement, 'm5.xlarge']], 'exactly one new NodeClaim');
      assert.ok(!before.some((cl) => cl.name === after[0]?.name));
      const node = await c.core.readNode({ name: replacement });
      assert.equal(node.metadata?.labels?.[INSTANCE_TYPE], 'm5.xlarge');
      assert.equal(node.metadata?.labels?.['karpenter.sh/nodepool'], RPOOL);
      assert.equal(node.metadata?.labels?.[NODE_GROUP_LABEL], RPOOL, 'the template\'s labels');
      assert.ok(node.spec?.taints?.some((t) => t.key === 'size' && t.value === RPOOL), 'the template\'s taint');
      for (const a of REPLACE_APPS) {
        const pods = await podsOf(c, RNS, a.app);
        assert.deepEqual(pods.map((p) => [p.spec?.nodeName, servesTraffic(p)]), Array.from({ length: a.replicas }, () => [replacement, true]), `${a.app} serves on "${replacement}"`);
      }
      const a = node.metadata?.annotations ?? {};
      assert.deepEqual([a[SCALE_DOWN_DISABLED], a[DO_NOT_DISRUPT], a[PROTECTED]], [undefined, undefined, undefined], 'full enough: its protection is off again');
      assert.deepEqual(await nodesMarkedByStowage(c), [], 'nothing of Stowage left on any node');
    } finally {
      running = false;
      await Promise.all(watches.map((w) => w.stop()));
    }
    assertFloors(REPLACE_APPS.map((a, i) => ({ app: a.app, floor: a.floor, watch: watches[i] as MinReadyWatch })));
  });
});

const MPOOL = 'multi';
const MNS = 'karpenter-multi';

describe('karpenter-consolidate replaces several nodes by one through Karpenter', () => {
  const MULTI_APPS = ['epsilon', 'zeta'] as const;

  before(async () => {
    const c = cluster();
    // m5.xlarge only at first: each 2500m pod gets a node of its own (two do not fit on one).
    await c.kc.makeApiClient(CustomObjectsApi).createClusterCustomObject({ ...NODE_POOLS, body: nodePool(MPOOL, ['m5.xlarge'], '2') });
    await poolReady(c, MPOOL);
    await createNamespace(c.core, MNS);
  });

  test('two m5.xlarge nodes, each with one single replica, go for one c5.2xlarge that holds both: one NodeClaim, both pods moved onto its node, both old nodes gone, every replica kept serving', { timeout: 8 * 60_000 }, async () => {
    const c = cluster();
    const first = await deployOnPool(c, MNS, 'epsilon', MPOOL, { cpu: '2500m' });
    const second = await deployOnPool(c, MNS, 'zeta', MPOOL, { cpu: '2500m' });
    assert.notEqual(first, second, 'one node each');
    const before = (await claimsOf(c, MPOOL)).filter((cl) => !cl.deleting);
    assert.deepEqual(before.map((cl) => cl.instanceType), ['m5.xlarge', 'm5.xlarge']);
    // The pool now allows the c5.2xlarge ($0.34/h for both pods against $0.384/h for the two), one
    // more node, and two of its nodes disrupted at once (a budget of 1 would split the set).
    await patchPool(c, MPOOL, {
      limits: { nodes: '3' },
      template: (nodePool(MPOOL, ['m5.xlarge', 'c5.2xlarge'], '3').spec as { template: unknown }).template,
      disruption: { budgets: [{ nodes: '0', reasons: ['Drifted'] }, { nodes: '2' }] },
    });
    await poolReady(c, MPOOL);
    const config = writeDeschedulerConfig(dir, 'karpenter-multi', [], {
      strategies: '{ consolidate: { enabled: false }, spot-reschedule: { enabled: false }, karpenter-consolidate: { enabled: true, settleSeconds: 0 } }',
    });
    const watches = MULTI_APPS.map((app) => new MinReadyWatch(c, MNS, `app=${app}`, 1));
    await Promise.all(watches.map((w) => w.start()));
    let replacement = '';
    try {
      const result = await runCli(['deschedule', '--kubeconfig', c.state.kubeconfigPath, '--config', config, '--once', '-o', 'json'], { STOWAGE_LOG_LEVEL: 'info' });
      assert.equal(result.code, 0, `deschedule exited ${result.code}: ${result.stderr}`);
      const out = JSON.parse(result.stdout) as {
        status: { launches?: { offer: { instanceType: string }; replaces: string[] }[]; drains: { node: string; together?: string[] }[] };
        report?: { drains: { node: string; outcome: string; reason: { message: string } }[] };
      };
      const set = [first, second].sort();
      assert.deepEqual(out.status.launches?.map((l) => [l.offer.instanceType, [...l.replaces].sort()]), [['c5.2xlarge', set]], result.stdout);
      assert.deepEqual(out.status.drains.filter((d) => set.includes(d.node)).map((d) => [...(d.together ?? [])].sort()), [set, set], 'both drains name the set');
      const outcomes = out.report?.drains.map((d) => `${d.node}:${d.outcome}`).sort() ?? [];
      const launchJob = out.report?.drains.find((d) => d.node.startsWith('replacement-for-'));
      assert.deepEqual(outcomes, [`${launchJob?.node ?? ''}:done`, ...set.map((n) => `${n}:done`)].sort(), JSON.stringify(out.report));
      replacement = /launched as node "([^"]+)"/.exec(launchJob?.reason.message ?? '')?.[1] ?? '';
      assert.notEqual(replacement, '');

      // Karpenter terminates both old nodes; one NodeClaim, the new one, is left in the pool.
      await waitFor('both old nodes to be gone', async () => (await c.core.listNode()).items.every((n) => !set.includes(n.metadata?.name ?? '')), { timeoutMs: 120_000, intervalMs: 500 });
      await waitFor('their NodeClaims to be gone', async () => (await claimsOf(c, MPOOL)).every((cl) => !set.includes(cl.nodeName)), { timeoutMs: 120_000, intervalMs: 500 });
      const after = await claimsOf(c, MPOOL);
      assert.deepEqual(after.map((cl) => [cl.nodeName, cl.instanceType, cl.launchedFor !== undefined]), [[replacement, 'c5.2xlarge', true]], 'exactly one NodeClaim, the descheduler\'s');
      for (const app of MULTI_APPS) {
        const pods = await podsOf(c, MNS, app);
        assert.deepEqual(pods.map((p) => [p.spec?.nodeName, servesTraffic(p)]), [[replacement, true]], `${app} serves on "${replacement}"`);
      }
      assert.deepEqual(await nodesMarkedByStowage(c), [], 'nothing of Stowage left on any node');
    } finally {
      await Promise.all(watches.map((w) => w.stop()));
    }
    assertFloors(MULTI_APPS.map((app, i) => ({ app, floor: 1, watch: watches[i] as MinReadyWatch })));
  });
});
