/**
 * `stowage dev cluster up --pod-startup-delay … --pod-startup-jitter …`, run as a user runs it:
 * each pod must take the configured time, plus up to the jitter, from binding to Ready, measured
 * by watching the pods through the API. (kwok reads its jitter as the latest delay; a jitter of 0
 * once made every pod Ready ~25 ms after binding, so no e2e test saw a replacement that was not
 * Ready yet.)
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../../src/devcluster/processes.js';
import { ResilientInformer } from '../../src/kube/informer.js';
import { createNamespace } from './support/cluster.js';
import { runCli } from './support/exec.js';

const NAME = `e2e-startup-${process.pid}`;
const DELAY_MS = 3_000;
const JITTER_MS = 2_000;
const PODS = 12;
const NS = 'startup';

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

describe('dev cluster up --pod-startup-delay', () => {
  after(async () => {
    const down = await runCli(['dev', 'cluster', 'down', '--name', NAME]);
    assert.equal(down.code, 0, down.stderr);
  });

  test('pods become Ready the configured delay plus up to the jitter after they are bound', { timeout: 5 * 60_000 }, async (t) => {
    const up = await runCli(['dev', 'cluster', 'up', '--name', NAME, '--pod-startup-delay', `${DELAY_MS}ms`, '--pod-startup-jitter', `${JITTER_MS}ms`]);
    assert.equal(up.code, 0, up.stderr);
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.stdout)?.[1];
    assert.ok(kubeconfig, `up prints the kubeconfig: ${up.stdout}`);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
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
});
