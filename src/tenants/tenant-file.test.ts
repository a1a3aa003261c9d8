import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTenantFile } from './tenant-file.js';

describe('tenants file', () => {
  test('reads one Tenant per document and TenantList items', () => {
    const text = [
      'apiVersion: stowage.io/v1alpha1\nkind: Tenant\nmetadata: { name: premium-1 }\nspec: { class: premium, params: { plan: gold, seats: 5 } }',
      'apiVersion: stowage.io/v1alpha1\nkind: TenantList\nitems:\n  - { apiVersion: stowage.io/v1alpha1, kind: Tenant, metadata: { name: standard-1 }, spec: { class: standard } }',
    ].join('\n---\n');
    assert.deepEqual(parseTenantFile(text), [
      { name: 'premium-1', class: 'premium', params: { plan: 'gold', seats: '5' } },
      { name: 'standard-1', class: 'standard', params: {} },
    ]);
  });

  test('errors are one line naming the document and field', () => {
    assert.throws(() => parseTenantFile('apiVersion: stowage.io/v1alpha1\nkind: Tenant\nmetadata: { name: a }\nspec: {}', 't.yaml'), /^Error: Invalid t\.yaml: document 1: spec\.class: /);
    assert.throws(() => parseTenantFile('apiVersion: stowage.io/v1alpha1\nkind: Tenant\nmetadata: { name: A_1 }\nspec: { class: x }'), /Invalid tenant name "A_1"/);
    const twice = 'apiVersion: stowage.io/v1alpha1\nkind: Tenant\nmetadata: { name: a }\nspec: { class: x }';
    assert.throws(() => parseTenantFile(`${twice}\n---\n${twice}`), /document 2: tenant "a" is defined twice/);
    assert.throws(() => parseTenantFile(''), /no Tenant documents/);
  });
});
