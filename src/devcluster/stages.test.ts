import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { podStartupRange, renderStages } from './cluster.js';

interface StageDoc {
  kind: string;
  metadata?: { name?: string };
  spec?: { delay?: { durationMilliseconds?: number; jitterDurationMilliseconds?: number } };
}

function podReadyDelay(yaml: string): { durationMilliseconds?: number; jitterDurationMilliseconds?: number } {
  const docs = parseAllDocuments(yaml).map((d) => d.toJS() as StageDoc);
  const stage = docs.find((d) => d.kind === 'Stage' && d.metadata?.name === 'pod-ready');
  assert.ok(stage?.spec?.delay, 'the pod-ready stage has a delay');
  return stage.spec.delay;
}

// kwok waits `jitter` itself when jitter <= duration, and a uniform time in [duration, jitter)
// otherwise: the rendered jitter must be the latest delay, never below the duration.
test('the pod-ready stage waits the start-up delay plus up to the jitter', () => {
  assert.deepEqual(podReadyDelay(renderStages({ podStartupMs: 2_000, podStartupJitterMs: 1_000 })), {
    durationMilliseconds: 2_000,
    jitterDurationMilliseconds: 3_000,
  });
});

test('without jitter the pod-ready stage waits exactly the start-up delay, not zero', () => {
  assert.deepEqual(podReadyDelay(renderStages({ podStartupMs: 5_000, podStartupJitterMs: 0 })), {
    durationMilliseconds: 5_000,
    jitterDurationMilliseconds: 5_000,
  });
});

test('the jitter defaults to half the start-up delay', () => {
  assert.deepEqual(podStartupRange({ podStartupMs: 4_000 }), { minMs: 4_000, maxMs: 6_000 });
  assert.deepEqual(podStartupRange({}), { minMs: 1_000, maxMs: 1_500 });
  assert.deepEqual(podReadyDelay(renderStages({})), { durationMilliseconds: 1_000, jitterDurationMilliseconds: 1_500 });
});

test('every placeholder is filled in', () => {
  assert.doesNotMatch(renderStages({}), /\$\{[A-Z_]+\}/);
});

interface NodeStageDoc {
  kind: string;
  metadata?: { name?: string };
  spec?: {
    resourceRef?: { kind?: string };
    selector?: { matchExpressions?: { key: string; operator: string }[] };
    next?: { patches?: { type?: string; root?: string; template?: string }[] };
  };
}

function nodeStages(): Map<string, NodeStageDoc> {
  const docs = parseAllDocuments(renderStages({})).map((d) => d.toJS() as NodeStageDoc);
  return new Map(docs.filter((d) => d.kind === 'Stage' && d.spec?.resourceRef?.kind === 'Node').map((d) => [d.metadata?.name ?? '', d]));
}

const HOSTNAME_KEY = '.metadata.labels["kubernetes.io/hostname"]';

test('a node without a kubernetes.io/hostname label is labelled with its own name', () => {
  const stage = nodeStages().get('node-hostname');
  assert.ok(stage, 'there is a node-hostname stage');
  assert.deepEqual(stage.spec?.selector?.matchExpressions, [{ key: HOSTNAME_KEY, operator: 'DoesNotExist' }]);
  const patch = stage.spec?.next?.patches?.[0];
  assert.equal(patch?.root, 'metadata');
  assert.match(patch?.template ?? '', /kubernetes\.io\/hostname: \{\{ \.metadata\.name \| Quote \}\}/);
});

test('no node becomes Ready before it has its hostname label', () => {
  // kwok picks one matching stage at random: node-initialize must not match a node that
  // node-hostname still has to label, or it could become schedulable without one.
  const initialize = nodeStages().get('node-initialize');
  assert.ok(initialize?.spec?.selector?.matchExpressions?.some((e) => e.key === HOSTNAME_KEY && e.operator === 'Exists'));
});
