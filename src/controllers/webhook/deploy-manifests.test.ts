/**
 * deploy/webhook parses and says what the issue requires; the e2e test applies it to a real
 * API server (server-side dry run) to prove the objects are valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { shippedNodeOptions } from '../../devcluster/shipped-identity.js';
import { kustomizationResources, loadManifests, manifestFiles, type ManifestObject } from '../manifests.test-helper.js';
import { urlWebhookConfiguration } from './registration.js';

type Obj = ManifestObject;

const DIR = new URL('../../../deploy/webhook/', import.meta.url);

const load = (): Obj[] => loadManifests(DIR);

function find<T = Obj>(objects: Obj[], kind: string): T {
  const found = objects.find((o) => o.kind === kind);
  assert.ok(found, `a ${kind} is in deploy/webhook`);
  return found as T;
}

test('every manifest parses, and kustomization lists every file but the registration (applied with its caBundle)', () => {
  const objects = load();
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'MutatingWebhookConfiguration', 'Namespace', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
  // The configuration is the ConfigMap of deploy/config, shared with the descheduler; the
  // registration is applied on its own, with its caBundle.
  assert.deepEqual(kustomizationResources(DIR), ['../config', ...manifestFiles(DIR).filter((f) => f !== 'webhook.yaml')]);
});

test('the MutatingWebhookConfiguration fails open, is fast, has no side effects, and skips system namespaces', () => {
  type Webhook = {
    failurePolicy: string;
    timeoutSeconds: number;
    sideEffects: string;
    reinvocationPolicy: string;
    admissionReviewVersions: string[];
    clientConfig: { caBundle: string; service: { name: string; namespace: string; path: string } };
    rules: { operations: string[]; resources: string[] }[];
    namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
    objectSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  };
  const config = find<{ webhooks: Webhook[] }>(load(), 'MutatingWebhookConfiguration');
  assert.equal(config.webhooks.length, 1);
  const hook = config.webhooks[0] as Webhook;
  assert.equal(hook.failurePolicy, 'Ignore');
  assert.ok(hook.timeoutSeconds <= 5);
  assert.equal(hook.sideEffects, 'None');
  assert.equal(hook.reinvocationPolicy, 'IfNeeded');
  assert.deepEqual(hook.admissionReviewVersions, ['v1']);
  assert.deepEqual(hook.rules.map((r) => [r.operations, r.resources]), [[['CREATE'], ['pods']]]);
  assert.equal(hook.clientConfig.service.path, '/mutate');
  assert.doesNotThrow(() => Buffer.from(hook.clientConfig.caBundle, 'base64'));
  const byName = hook.namespaceSelector.matchExpressions.find((e) => e.key === 'kubernetes.io/metadata.name');
  assert.equal(byName?.operator, 'NotIn');
  assert.deepEqual([...(byName?.values ?? [])].sort(), ['kube-system', 'stowage-system']);
  assert.deepEqual(hook.objectSelector.matchExpressions, [{ key: 'stowage.io/placement', operator: 'NotIn', values: ['disabled'] }]);
});

test('two replicas behind a Service, a PodDisruptionBudget, probes on the metrics port', () => {
  const objects = load();
  const deployment = find<{ spec: { replicas: number; template: { spec: { serviceAccountName: string; containers: { args: string[]; readinessProbe: { httpGet: { path: string } } }[] } } } }>(objects, 'Deployment');
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.spec.template.spec.serviceAccountName, 'stowage-webhook');
  const container = deployment.spec.template.spec.containers[0];
  assert.equal(container?.args[0], 'webhook');
  assert.ok(container?.args.includes('--tls-cert-file=/etc/stowage/tls/tls.crt'));
  assert.equal(container?.readinessProbe.httpGet.path, '/readyz');
  const pdb = find<{ spec: { minAvailable: number } }>(objects, 'PodDisruptionBudget');
  assert.equal(pdb.spec.minAvailable, 1);
  const service = find<{ spec: { ports: { port: number; targetPort: string }[] } }>(objects, 'Service');
  assert.deepEqual(service.spec.ports[0], { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' });
});

test('RBAC is read-only: get, list and watch on what the webhook watches, nothing else', () => {
  const role = find<{ rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(load(), 'ClusterRole');
  const granted = role.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g || 'core'}/${res}:${v}`))));
  for (const entry of granted) assert.match(entry, /:(get|list|watch)$/, entry);
  for (const watched of ['core/pods', 'core/nodes', 'core/namespaces', 'apps/replicasets', 'apps/deployments', 'apps/statefulsets']) {
    assert.ok(granted.includes(`${watched}:list`) && granted.includes(`${watched}:watch`), watched);
  }
  assert.ok(!granted.some((g) => g.includes('secrets')), 'no access to Secrets');
});

test('the shipped registration can point at a URL (a webhook outside the cluster) and keeps its policies', () => {
  const config = urlWebhookConfiguration('https://127.0.0.1:8443/mutate', '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n', 'local');
  assert.equal(config.metadata.name, 'local');
  const hook = config.webhooks[0] as { clientConfig: unknown; failurePolicy: string; namespaceSelector: unknown };
  assert.deepEqual(hook.clientConfig, { url: 'https://127.0.0.1:8443/mutate', caBundle: Buffer.from('-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n').toString('base64') });
  assert.equal(hook.failurePolicy, 'Ignore');
  assert.ok(hook.namespaceSelector);
});

test('the webhook container\'s NODE_OPTIONS are options Node accepts there', () => {
  const options = shippedNodeOptions('webhook');
  assert.ok(options.length > 0, 'deploy/webhook/deployment.yaml sets NODE_OPTIONS');
  // Node refuses to start on an option it does not allow in NODE_OPTIONS: the pod would crash-loop.
  const run = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: options.join(' ') }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});
