import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TENANT_CLASSES, parseTenantClasses, resolveClass, tenantClassesFromDocument } from './classes.js';

const minimal = (spec: unknown) => ({ apiVersion: 'stowage.io/v1alpha1', kind: 'TenantClasses', spec });
const group = { name: 'g', instanceTypes: ['t3a.medium'], labels: { size: 'g' }, maxSize: 2 };

describe('tenant classes', () => {
  test('the built-in default is the seed: premium on large t3a.xlarge 0-3, standard on medium t3a.medium 0-5', () => {
    const premium = resolveClass(DEFAULT_TENANT_CLASSES, 'premium');
    assert.equal(premium.group.name, 'large');
    assert.deepEqual(premium.group.instanceTypes, ['t3a.xlarge']);
    assert.deepEqual(premium.group.labels, { size: 'large' });
    assert.deepEqual(premium.group.taints, [{ key: 'size', value: 'large', effect: 'NoSchedule' }]);
    assert.deepEqual([premium.group.minSize, premium.group.maxSize], [0, 3]);
    assert.equal(premium.tenantClass.onePerNode, true);
    const standard = resolveClass(DEFAULT_TENANT_CLASSES, 'standard');
    assert.equal(standard.group.name, 'medium');
    assert.deepEqual(standard.group.instanceTypes, ['t3a.medium']);
    assert.deepEqual(standard.group.taints, [{ key: 'size', value: 'medium', effect: 'NoSchedule' }]);
    assert.deepEqual([standard.group.minSize, standard.group.maxSize], [0, 5]);
  });

  test('defaults fill zones, capacity types, requests and the bundle', () => {
    const classes = tenantClassesFromDocument(minimal({ nodeGroups: [group], classes: [{ name: 'c', nodeGroup: 'g' }] }));
    assert.deepEqual(classes.nodeGroups[0]?.zones, ['us-east-1a']);
    assert.deepEqual(classes.nodeGroups[0]?.capacityTypes, ['on-demand']);
    assert.equal(classes.nodeGroups[0]?.minSize, 0);
    assert.deepEqual(classes.classes[0]?.requests, { cpu: '1', memory: '1Gi' });
    assert.equal(classes.classes[0]?.bundle.replicas, 1);
  });

  test('errors are one line naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [minimal({ nodeGroups: [{ ...group, maxSize: 0 }], classes: [{ name: 'c', nodeGroup: 'g' }] }), /^Invalid tenant classes: spec\.nodeGroups\[0\]\.maxSize: /],
      [minimal({ nodeGroups: [group], classes: [{ name: 'c', nodeGroup: 'nope' }] }), /spec\.classes\[0\]\.nodeGroup: no node group "nope"/],
      [minimal({ nodeGroups: [{ ...group, instanceTypes: ['x9.huge'] }], classes: [{ name: 'c', nodeGroup: 'g' }] }), /unknown instance type "x9\.huge"/],
      [minimal({ nodeGroups: [{ ...group, minSize: 3 }], classes: [{ name: 'c', nodeGroup: 'g' }] }), /minSize: 3 is above maxSize 2/],
      [minimal({ nodeGroups: [{ ...group, labels: {} }], classes: [{ name: 'c', nodeGroup: 'g' }] }), /needs at least one label/],
      [minimal({ nodeGroups: [group, group], classes: [{ name: 'c', nodeGroup: 'g' }] }), /defined twice/],
      [minimal({ nodeGroups: [{ ...group, taints: [{ key: 'size', value: 'g', effect: 'NO_SCHEDULE' }] }], classes: [{ name: 'c', nodeGroup: 'g' }] }), /taints\[0\]\.effect/],
      [minimal({ nodeGroups: [group], classes: [{ name: 'c', nodeGroup: 'g', requests: { cpu: 'lots' } }] }), /requests\.cpu: must be a quantity/],
      [{ apiVersion: 'v1', kind: 'TenantClasses', spec: {} }, /apiVersion/],
    ];
    for (const [document, pattern] of cases) {
      assert.throws(() => tenantClassesFromDocument(document), (error: Error) => pattern.test(error.message) && !error.message.includes('\n'), String(pattern));
    }
  });

  test('YAML syntax errors name the source', () => {
    assert.throws(() => parseTenantClasses('spec: [', 'tenant classes "x.yaml"'), /^Error: Cannot parse tenant classes "x\.yaml": /);
  });

  test('an unknown class lists the known ones', () => {
    assert.throws(() => resolveClass(DEFAULT_TENANT_CLASSES, 'gold'), /Unknown tenant class "gold": use one of "premium", "standard"/);
  });
});
