import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TENANT_CLASSES, resolveClass } from './classes.js';
import { BUNDLE_ORDER, renderBundle, substitute } from './bundle.js';

const { tenantClass, group } = resolveClass(DEFAULT_TENANT_CLASSES, 'premium');

describe('tenant bundle', () => {
  test('renders Namespace, Secret, ConfigMap, Service, Deployment in that order', () => {
    const objects = renderBundle({ name: 'premium-1', class: 'premium', params: {} }, tenantClass, group);
    assert.deepEqual(objects.map((o) => o.kind), [...BUNDLE_ORDER]);
    assert.ok(objects.slice(1).every((o) => o.metadata.namespace === 'premium-1'));
  });

  test('the pod tolerates the group taint, selects its label, requests the class, and keeps apart from other tenants', () => {
    const deployment = renderBundle({ name: 'premium-1', class: 'premium', params: {} }, tenantClass, group).at(-1) as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { containers: { resources: unknown; envFrom: unknown }[] } } };
    };
    const pod = deployment.spec.template.spec;
    assert.deepEqual(pod['nodeSelector'], { size: 'large' });
    assert.deepEqual(pod['tolerations'], [{ key: 'size', operator: 'Equal', value: 'large', effect: 'NoSchedule' }]);
    assert.deepEqual(pod['affinity'], {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          {
            labelSelector: { matchExpressions: [{ key: 'stowage.io/tenant', operator: 'Exists' }] },
            namespaceSelector: { matchExpressions: [{ key: 'stowage.io/tenant', operator: 'Exists' }] },
            topologyKey: 'kubernetes.io/hostname',
          },
        ],
      },
    });
    assert.deepEqual(pod.containers[0]?.resources, { requests: { cpu: '2', memory: '4Gi' } });
    assert.deepEqual(pod.containers[0]?.envFrom, [{ configMapRef: { name: 'premium-1-config' } }, { secretRef: { name: 'premium-1-secret' } }]);
    assert.equal(deployment.spec.template.metadata.labels['stowage.io/tenant'], 'premium-1');
  });

  test('a class that is not one-per-node gets no anti-affinity', () => {
    const deployment = renderBundle({ name: 't', class: 'premium', params: {} }, { ...tenantClass, onePerNode: false }, group).at(-1) as unknown as {
      spec: { template: { spec: Record<string, unknown> } };
    };
    assert.equal(deployment.spec.template.spec['affinity'], undefined);
  });

  test('config and secret values substitute the tenant and its parameters; the secret is base64', () => {
    const withParams = { ...tenantClass, bundle: { ...tenantClass.bundle, config: { PLAN: '${params.plan}', WHO: '${tenant.name}/${tenant.class}' }, secret: { KEY: 'é-${params.plan}' } } };
    const [, secret, config] = renderBundle({ name: 'p1', class: 'premium', params: { plan: 'gold' } }, withParams, group);
    assert.deepEqual(config?.['data'], { PLAN: 'gold', WHO: 'p1/premium' });
    assert.deepEqual(secret?.['data'], { KEY: Buffer.from('é-gold').toString('base64') });
  });

  test('a missing parameter or a bad name is one clear error', () => {
    assert.throws(() => substitute('${params.plan}', { name: 'p1', class: 'premium', params: {} }, 'bundle.config.PLAN'), /^Error: Cannot render tenant "p1": bundle\.config\.PLAN uses parameter "plan", which is not set \(pass --set plan=VALUE\)$/);
    assert.throws(() => renderBundle({ name: 'Premium_1', class: 'premium', params: {} }, tenantClass, group), /Invalid tenant name "Premium_1"/);
  });
});
