/**
 * `stowage dev cluster up`, run as a user runs it:
 * - `--pod-startup-delay … --pod-startup-jitter …`: each pod must take the configured time, plus up
 *   to the jitter, from binding to Ready, measured by watching the pods through the API. (kwok reads
 *   its jitter as the latest delay; a jitter of 0 once made every pod Ready ~25 ms after binding, so
 *   no e2e test saw a replacement that was not Ready yet.)
 * - Nodes created as Cluster Autoscaler's kwok provider creates them (copied from a template
 *   node, so without a `kubernetes.io/hostname` label) get the label before they become Ready,
 *   and one-tenant-pod-per-node anti-affinity holds on them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { DEFAULT_TENANT_CLASSES, resolveClass } from '../../src/tenants/classes.js';
import { kwokTemplateNode } from '../../src/tenants/nodegroups/cluster-autoscaler-kwok.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { ResilientInformer } from '../../src/kube/informer.js';
import { createNamespace } from './support/cluster.js';
import { runCli } from './support/exec.js';
import { isReady } from './support/ready-watch.js';

const NAME = `e2e-startup-${process.pid}`;
const DELAY_MS = 3_000;
const JITTER_MS = 2_000;
const PODS = 12;
const NS = 'startup';

describe('dev cluster up', () => {
  let kubeconfig = '';
  let kc: KubeConfig;
  let core: CoreV1Api;

  before(async () => {
    const up = await runCli(['dev', 'cluster', 'up', '--name', NAME, '--pod-startup-delay', `${DELAY_MS}ms`, '--pod-startup-jitter', `${JITTER_MS}ms`]);
    assert.equal(up.code, 0, up.stderr);
    kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.stdout)?.[1] ?? '';
    assert.ok(kubeconfig, `up prints the kubeconfig: ${up.stdout}`);
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
  });

  after(async () => {
    const down = await runCli(['dev', 'cluster', 'down', '--name', NAME]);
    assert.equal(down.code, 0, down.stderr);
  });

  test('--pod-startup-delay: pods become Ready the configured delay plus up to the jitter after they are bound', { timeout: 5 * 60_000 }, async (t) => {
    await createNamespace(core, NS);

    // When the watch first shows each pod bound, and when it first shows it Ready.
    const boundAt = new Map<string, number>();
    const readyAt = new Map<string, number>();
    const informer = new ResilientInformer<V1Pod>(kc, { name: 'pods', path: `/api/v1/namespaces/${NS}/pods` });
    const see = (pod: V1Pod): void => {
      const name = pod.metadata?.name ?? '';
      const now = Date.now();
      if (pod.spec?.nodeName && !boundAt.has(name)) boundAt.set(name, now);
      if (isReady(pod) && !readyAt.has(name)) readyAt.set(name, now);
    };
    informer.on('add', see);
    informer.on('update', see);
    await informer.start();
    try {
      for (let i = 0; i < PODS; i++) {
        await core.createNamespacedPod({
          namespace: NS,
          body: { metadata: { name: `p${i}` }, spec: { containers: [{ name: 'c', image: 'registry.example/app:1', resources: { requests: { cpu: '10m' } } }] } },
        });
      }
      await waitFor(`${PODS} pods Ready`, async () => readyAt.size === PODS, { timeoutMs: 60_000 });
    } finally {
      await informer.stop();
    }

    const delays = [...readyAt].map(([name, at]) => {
      const bound = boundAt.get(name);
      assert.ok(bound !== undefined, `pod "${name}" was seen bound before Ready`);
      return at - bound;
    }).sort((a, b) => a - b);
    const min = delays[0] ?? 0;
    const max = delays.at(-1) ?? 0;
    t.diagnostic(`bind → Ready over ${PODS} pods: min ${min} ms, median ${delays[PODS >> 1]} ms, max ${max} ms (configured ${DELAY_MS} ms + up to ${JITTER_MS} ms)`);
    // Both instants are seen through the same watch, so its latency mostly cancels out; the slack
    // covers a busy 2-core machine.
    assert.ok(min >= DELAY_MS - 250, `no pod is Ready before the start-up delay: ${delays.join(', ')} ms`);
    assert.ok(max <= DELAY_MS + JITTER_MS + 2_000, `every pod is Ready within the delay plus the jitter: ${delays.join(', ')} ms`);
    // Twelve uniform draws over 2 s all within 0.5 s of each other: chance below 1e-5.
    assert.ok(max - min >= 500, `the jitter spreads the pods' start-up: ${delays.join(', ')} ms`);
  });

  test('a node made as Cluster Autoscaler\'s kwok provider makes it is labelled with its hostname before it is Ready, and one tenant pod per node holds on it', { timeout: 3 * 60_000 }, async (t) => {
    // What the provider does on scale-up (cloudprovider/kwok, IncreaseSize and prepareNode): a copy
    // of the group's template node with a random name, its management annotations and a provider
    // ID. The template is the one `tenants nodegroups render --for cluster-autoscaler-kwok` ships.
    const { group } = resolveClass(DEFAULT_TENANT_CLASSES, 'premium');
    const template = kwokTemplateNode(group) as unknown as V1Node;
    const name = `${group.name}-${randomBytes(3).toString('hex')}`;
    const node: V1Node = {
      ...template,
      metadata: {
        ...template.metadata,
        name,
        annotations: { ...template.metadata?.annotations, 'kwok.x-k8s.io/node': 'fake', 'cluster-autoscaler.kwok.nodegroup/name': group.name },
      },
      spec: { ...template.spec, providerID: `kwok:${name}` },
    };
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], undefined, 'the provider\'s node has no hostname label of its own');

    // Every state of the node as the watch shows it: none may be Ready without the label.
    const seen: V1Node[] = [];
    const informer = new ResilientInformer<V1Node>(kc, { name: 'nodes', path: '/api/v1/nodes' });
    informer.on('add', (n) => { if (n.metadata?.name === name) seen.push(n); });
    informer.on('update', (n) => { if (n.metadata?.name === name) seen.push(n); });
    await informer.start();
    try {
      await core.createNode({ body: node });
      await waitFor(`node ${name} Ready`, async () => seen.some(isNodeReady), { timeoutMs: 60_000 });
    } finally {
      await informer.stop();
    }
    const readyWithout = seen.filter((n) => isNodeReady(n) && n.metadata?.labels?.['kubernetes.io/hostname'] === undefined);
    assert.equal(readyWithout.length, 0, 'the node is never Ready without a hostname label');
    const labelled = await core.readNode({ name });
    assert.equal(labelled.metadata?.labels?.['kubernetes.io/hostname'], name);

    // Two premium tenants, one node of their group: anti-affinity on kubernetes.io/hostname must
    // keep the second off it (without the label both would share the node).
    for (const tenant of ['premium-a', 'premium-b']) {
      const created = await runCli(['tenants', 'create', '--class', 'premium', '--name', tenant, '--kubeconfig', kubeconfig]);
      assert.equal(created.code, 0, created.stderr);
    }
    const tenantPods = async () => (await core.listPodForAllNamespaces({ labelSelector: 'stowage.io/tenant' })).items;
    await waitFor('one tenant pod Ready on the node', async () => (await tenantPods()).some((p) => p.spec?.nodeName === name && isReady(p)), { timeoutMs: 60_000 });
    await waitFor('the other tenant pod reported unschedulable', async () => (await tenantPods()).some(isUnschedulable), { timeoutMs: 60_000 });
    const pods = await tenantPods();
    t.diagnostic(pods.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}: ${p.spec?.nodeName ?? 'Pending'}`).join('; '));
    assert.equal(pods.filter((p) => p.spec?.nodeName === name).length, 1, 'exactly one tenant pod on the node');
    const pending = pods.find((p) => !p.spec?.nodeName);
    const reason = pending?.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message ?? '';
    assert.match(reason, /anti-affinity/, `the other waits for anti-affinity: ${reason}`);
  });
});

function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function isUnschedulable(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable') ?? false;
}
