import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TENANT_CLASSES } from '../classes.js';
import { parseAsgTags, parseAsgTagsDocument, renderAsgTags } from './cluster-autoscaler-aws.js';

describe('cluster-autoscaler-aws node groups', () => {
  test('each group gets its node-template label, taint and resources tags plus the auto-discovery tags (hand-checked)', () => {
    const document = renderAsgTags(DEFAULT_TENANT_CLASSES, 'prod');
    assert.equal(document.kind, 'AutoScalingGroupTags');
    assert.deepEqual(document.groups[0], {
      name: 'large',
      minSize: 0,
      maxSize: 3,
      instanceTypes: ['t3a.xlarge'],
      zones: ['us-east-1a'],
      tags: {
        'k8s.io/cluster-autoscaler/enabled': 'true',
        'k8s.io/cluster-autoscaler/prod': 'owned',
        'k8s.io/cluster-autoscaler/node-template/label/size': 'large',
        'k8s.io/cluster-autoscaler/node-template/label/stowage.io/node-group': 'large',
        'k8s.io/cluster-autoscaler/node-template/taint/size': 'large:NoSchedule',
        'k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage': '20Gi',
      },
    });
    assert.equal(document.groups[1]?.tags['k8s.io/cluster-autoscaler/node-template/taint/size'], 'medium:NoSchedule');
  });

  test('parsing the rendered tags gives back the group labels and taints, with no problem', () => {
    const tags = renderAsgTags(DEFAULT_TENANT_CLASSES, 'prod').groups[0]?.tags ?? {};
    assert.deepEqual(parseAsgTags(tags, 'prod'), {
      labels: { size: 'large', 'stowage.io/node-group': 'large' },
      taints: [{ key: 'size', value: 'large', effect: 'NoSchedule' }],
      problems: [],
    });
  });

  test('malformed taint tags and missing discovery tags are problems with their fix', () => {
    const view = parseAsgTags({ 'k8s.io/cluster-autoscaler/node-template/taint/size': 'large:NO_SCHEDULE', 'k8s.io/cluster-autoscaler/node-template/taint/gpu': 'true' }, 'prod');
    assert.deepEqual(view.taints, []);
    assert.deepEqual(view.problems.map((p) => [p.code, p.fix]), [
      ['MalformedTaintTag', 'set the tag\'s value to "large:NoSchedule"'],
      ['MalformedTaintTag', 'set the tag\'s value to "true:NoSchedule"'],
      ['NotDiscoverable', 'add the tag k8s.io/cluster-autoscaler/enabled=true'],
      ['NotDiscoverable', 'add the tag k8s.io/cluster-autoscaler/prod=owned'],
    ]);
    assert.match(view.problems[0]?.message ?? '', /effect "NO_SCHEDULE" \(the EKS API's spelling\): Cluster Autoscaler ignores it/);
  });

  test('a definitions document is read into one view per group; a bad one is one line', () => {
    const views = parseAsgTagsDocument(renderAsgTags(DEFAULT_TENANT_CLASSES, 'prod'));
    assert.deepEqual([...views.keys()], ['large', 'medium']);
    assert.throws(() => parseAsgTagsDocument({ apiVersion: 'stowage.io/v1alpha1', kind: 'AutoScalingGroupTags', groups: [{ name: 'x' }] }), /^Error: Invalid node-group definitions: groups\[0\]\.tags: /);
  });
});
