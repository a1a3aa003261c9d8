import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { ClusterCache } from './cluster-cache.js';

/** A config that names a server nothing listens on: building a cache must not contact it. */
function _unusedKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:9' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  return kc;
}

test('a cache built for a second leadership term on the same registry shares its counters instead of failing', async () => {
  const kc = _unusedKubeConfig();
  const registry = new Registry();
  // Before the fix the second construction threw "A metric with the name
  // stowage_cache_watch_restarts_total has already been registered".
  const first = new ClusterCache(kc, { capacityRules: [], registry });
  const second = new ClusterCache(kc, { capacityRules: [], registry });
  assert.notEqual(first, second);
  const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
  assert.deepEqual(names, ['stowage_cache_relists_total', 'stowage_cache_watch_restarts_total']);
});
