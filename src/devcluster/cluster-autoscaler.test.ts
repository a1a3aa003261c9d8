import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterAutoscalerArgs, resolveClusterAutoscalerBinary } from './cluster-autoscaler.js';

test('without STOWAGE_CLUSTER_AUTOSCALER_BINARY the error says why and what to do, on one line', () => {
  assert.throws(() => resolveClusterAutoscalerBinary({}), (error: Error) => {
    assert.match(error.message, /^--autoscaler cluster-autoscaler needs STOWAGE_CLUSTER_AUTOSCALER_BINARY: no Go module proxy serves Cluster Autoscaler/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
});

test('a binary path that does not exist is named in the error', () => {
  assert.throws(() => resolveClusterAutoscalerBinary({ STOWAGE_CLUSTER_AUTOSCALER_BINARY: '/nonexistent/cluster-autoscaler' }), /"\/nonexistent\/cluster-autoscaler", which does not exist/);
});

test('Cluster Autoscaler runs the kwok provider and serves only on loopback', () => {
  const args = clusterAutoscalerArgs({ kubeconfigPath: '/tmp/kc', port: 18085 });
  assert.ok(args.includes('--cloud-provider=kwok'));
  assert.ok(args.includes('--address=127.0.0.1:18085'));
  assert.ok(args.includes('--kubeconfig=/tmp/kc'));
});
