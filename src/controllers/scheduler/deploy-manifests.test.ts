/**
 * deploy/scheduler parses, its ConfigMap is a valid SchedulerConfiguration, and the ClusterRole
 * grants what the scheduler calls and no more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { schedulerConfigFromDocument } from '../../config/scheduler-config.js';
import { kustomizationResources, loadManifests, manifestFiles, type ManifestObject } from '../manifests.test-helper.js';
import { SCHEDULER_CACHE_KINDS } from './run.js';

const DIR = new URL('../../../deploy/scheduler/', import.meta.url);

const load = (): ManifestObject[] => loadManifests(DIR);

interface _Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

test('every manifest parses and the kustomization lists every file', () => {
  assert.deepEqual(load().map((o) => o.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CustomResourceDefinition', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'ServiceAccount']);
  assert.deepEqual(kustomizationResources(DIR), manifestFiles(DIR));
});

test('the ConfigMap holds a valid configuration: the default profile and a cost-aware one', () => {
  const cm = load().find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
  const config = schedulerConfigFromDocument(parseYaml(cm.data['config.yaml'] ?? ''));
  assert.deepEqual(config.profiles.map((p) => `${p.schedulerName}=${p.preset}`), ['stowage=default', 'stowage-cost-aware=cost-aware']);
});

test('the ClusterRole reads exactly the kinds the cache watches and writes only bindings, pod status, victims and events', () => {
  const objects = load();
  const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } };
  assert.ok(deployment.spec.replicas === 1 || deployment.spec.template.spec.containers[0]?.args.includes('--leader-elect'), 'more than one replica only with leader election');
  const rules = (objects.find((o) => o.kind === 'ClusterRole') as unknown as { rules: _Rule[] }).rules;
  const watched = rules.filter((r) => r.verbs.includes('watch')).flatMap((r) => r.resources).sort();
  assert.deepEqual(watched, [...SCHEDULER_CACHE_KINDS, 'podgroups'].sort());
  const writes = rules.flatMap((r) => r.verbs.filter((v) => !['get', 'list', 'watch'].includes(v)).flatMap((v) => r.resources.map((res) => `${res}:${v}`))).sort();
  assert.deepEqual(writes, ['events:create', 'events:patch', 'podgroups/status:patch', 'pods/binding:create', 'pods/status:patch', 'pods:delete']);
});

test('the PodGroup CRD is scheduler-plugins\' group, version and fields, with a status subresource', () => {
  const crd = load().find((o) => o.kind === 'CustomResourceDefinition') as unknown as {
    spec: { group: string; names: { kind: string; plural: string }; versions: { name: string; subresources: { status?: object }; schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] };
  };
  assert.equal(crd.spec.group, 'scheduling.x-k8s.io');
  assert.deepEqual([crd.spec.names.kind, crd.spec.names.plural], ['PodGroup', 'podgroups']);
  const version = crd.spec.versions[0];
  assert.equal(version?.name, 'v1alpha1');
  assert.ok(version?.subresources.status !== undefined);
  assert.deepEqual(Object.keys(version?.schema.openAPIV3Schema.properties.spec.properties ?? {}).sort(), ['minMember', 'minResources', 'scheduleTimeoutSeconds']);
});

test('the leader election Role is namespaced and names its one Lease for get and update', () => {
  const role = load().find((o) => o.kind === 'Role') as unknown as { metadata: { namespace: string }; rules: _Rule[] };
  assert.equal(role.metadata.namespace, 'stowage-system');
  assert.deepEqual(role.rules.map((r) => `${r.resources.join(',')}:${r.verbs.join(',')}:${(r.resourceNames ?? ['*']).join(',')}`).sort(), ['leases:create:*', 'leases:get,update:stowage-scheduler']);
});
