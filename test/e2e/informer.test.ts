/**
 * The informer wrapper against a real API server that goes away: the watch drops, LISTs are
 * refused while it is down, and the informer must come back by itself and see what changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { restartComponent } from '../../src/devcluster/cluster.js';
import { waitFor } from '../../src/devcluster/processes.js';
import { ResilientInformer } from '../../src/kube/informer.js';
import { createNamespace, useCluster } from './support/cluster.js';

const cluster = useCluster({ nodes: { apiVersion: 'stowage.io/v1alpha1', kind: 'NodeFixture', nodes: [{ name: 'n', count: 1, labels: {}, annotations: {}, taints: [], capacity: { cpu: '4', memory: '16Gi', pods: '110' } }] } });

test('an informer survives an API server restart and catches up on what changed meanwhile', async () => {
  const { core, kc, state } = cluster();
  await createNamespace(core, 'inf');
  const errors: string[] = [];
  const informer = new ResilientInformer<V1ConfigMap>(kc, {
    name: 'configmaps',
    path: '/api/v1/namespaces/inf/configmaps',
    list: () => core.listNamespacedConfigMap({ namespace: 'inf' }),
    backoff: { baseMs: 200, maxMs: 1_000 },
    onError: (e) => errors.push(e.message),
  });
  const seen = new Set<string>();
  informer.on('add', (cm) => seen.add(cm.metadata?.name ?? ''));
  try {
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'before' } } });
    await informer.start();
    assert.ok(informer.list().some((cm) => cm.metadata?.name === 'before'), 'the first LIST is in the cache');

    await restartComponent(state.dir, 'kube-apiserver', { downMs: 1_500 });
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'after' } } });

    await waitFor('the informer to see the object created after the restart', async () => seen.has('after'), { timeoutMs: 60_000 });
    assert.ok(informer.list().some((cm) => cm.metadata?.name === 'after'));
    assert.ok(errors.length >= 1, `the outage was reported (errors: ${JSON.stringify(errors)})`);
    assert.ok(informer.restarts >= 1, 'the informer restarted itself');
  } finally {
    await informer.stop();
  }
});
