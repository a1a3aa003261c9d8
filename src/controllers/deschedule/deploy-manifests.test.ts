/**
 * deploy/descheduler parses, its ConfigMap is a valid DeschedulerConfiguration equal to the
 * defaults it claims to show, and the ClusterRole grants what the executor calls and no more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kustomizationResources, loadManifests, manifestFiles, type ManifestObject } from '../manifests.test-helper.js';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_DESCHEDULER_CONFIG, parseDeschedulerConfig } from '../../config/descheduler-config.js';
import { DEFAULT_WEBHOOK_CONFIG } from '../../config/webhook-config.js';
import { DEFAULT_DESCHEDULING_CONFIG } from '../../policy/deschedule/plan.js';

type Obj = ManifestObject;

const DIR = new URL('../../../deploy/descheduler/', import.meta.url);

const load = (): Obj[] => loadManifests(DIR);

test('every manifest parses and the kustomization lists every file', () => {
  const objects = load();
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'ServiceAccount']);
  assert.deepEqual(kustomizationResources(DIR), ['../config', ...manifestFiles(DIR)]);
});

test('the shared configuration (deploy/config/stowage.yaml) is the defaults written out, with the webhook\'s policy for the floor', () => {
  const text = readFileSync(new URL('../../../deploy/config/stowage.yaml', import.meta.url), 'utf8');
  const config = parseDeschedulerConfig(text, 'deploy/config/stowage.yaml', (path) => assert.fail(`The shipped file names no other file, yet "${path}" was read`));
  assert.deepEqual(config, { ...DEFAULT_DESCHEDULER_CONFIG, placement: DEFAULT_WEBHOOK_CONFIG });
  // Written out, not merely defaulted: the section as written is every default, field by field.
  const written = (parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; spec?: { deschedule?: unknown } }).find((d) => d.kind === 'DeschedulerConfiguration'))?.spec?.deschedule;
  assert.deepEqual(written, DEFAULT_DESCHEDULING_CONFIG);
  const deployment = load().find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { volumes: { configMap?: { name: string } }[] } } } };
  assert.deepEqual(deployment.spec.template.spec.volumes.map((v) => v.configMap?.name), ['stowage-config']);
});

test('two replicas under leader election, and the ClusterRole writes only evictions, node and Deployment patches, events and NodeClaim creates and deletes', () => {
  const objects = load();
  const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } };
  assert.equal(deployment.spec.replicas, 2);
  assert.ok(deployment.spec.template.spec.containers[0]?.args.includes('--leader-elect'), 'more than one replica only with leader election');
  const role = objects.find((o) => o.kind === 'ClusterRole') as unknown as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  const writes = role.rules.flatMap((r) => r.verbs.filter((v) => !['get', 'list', 'watch'].includes(v)).flatMap((v) => r.resources.map((res) => `${res}:${v}`))).sort();
  assert.deepEqual(writes, ['deployments:patch', 'events:create', 'events:patch', 'nodeclaims:create', 'nodeclaims:delete', 'nodes:patch', 'pods/eviction:create']);
  const karpenter = role.rules.filter((r) => r.apiGroups.includes('karpenter.sh')).map((r) => `${r.resources.join(',')}:${r.verbs.join(',')}`).sort();
  assert.deepEqual(karpenter, ['nodeclaims:get,list,create,delete', 'nodepools:list'], 'NodePools are only read');
  assert.ok(!role.rules.some((r) => r.resources.includes('pods') && r.verbs.includes('delete')), 'pods are never deleted directly');
});

test('the namespaced Role names its one Lease and its move-history ConfigMap for get and update', () => {
  const objects = load();
  const role = objects.find((o) => o.kind === 'Role') as unknown as { metadata: { namespace: string }; rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[] };
  assert.equal(role.metadata.namespace, 'stowage-system');
  const rules = role.rules.map((r) => `${r.resources.join(',')}:${r.verbs.join(',')}:${(r.resourceNames ?? ['*']).join(',')}`).sort();
  assert.deepEqual(rules, ['configmaps:create:*', 'configmaps:get,update:stowage-descheduler-moves', 'leases:create:*', 'leases:get,update:stowage-descheduler']);
  const binding = objects.find((o) => o.kind === 'RoleBinding') as unknown as { roleRef: { name: string }; subjects: { name: string }[] };
  assert.equal(binding.roleRef.name, 'stowage-descheduler-leader-election');
  assert.deepEqual(binding.subjects.map((s) => s.name), ['stowage-descheduler']);
});
