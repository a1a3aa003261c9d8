import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TENANT_CLASSES } from '../classes.js';
import { formatFinding } from '../doctor.js';
import { codes, diagnose, tenantPod } from '../doctor.test-helper.js';
import { asgTemplateView, renderAsgTags } from './cluster-autoscaler-aws.js';

describe('tenants doctor with Cluster Autoscaler ASG tags', () => {
  test('at zero nodes, ASG tags without the label leave the autoscaler blind to the group', () => {
    const tags = { ...renderAsgTags(DEFAULT_TENANT_CLASSES, 'prod').groups[0]!.tags };
    delete tags['k8s.io/cluster-autoscaler/node-template/label/size'];
    const findings = diagnose(tenantPod('p1'), [], [], { autoscalerViews: new Map([['large', asgTemplateView({ tags }, 'prod')]]) });
    assert.deepEqual(codes(findings), ['AutoscalerCannotSeeGroup/large']);
    assert.equal(
      formatFinding(findings[0]!),
      'AutoscalerCannotSeeGroup: node group "large" is at zero nodes and its ASG tags lack label size=large: the autoscaler\'s template node does not match the pod\'s selector, so it will not scale the group up — fix: tag the Auto Scaling group with k8s.io/cluster-autoscaler/node-template/label/size=large',
    );
  });
  test('at zero nodes, a malformed taint tag is named with its fix, and the unseen taint too', () => {
    const tags = { ...renderAsgTags(DEFAULT_TENANT_CLASSES, 'prod').groups[0]!.tags, 'k8s.io/cluster-autoscaler/node-template/taint/size': 'large:NO_SCHEDULE' };
    const findings = diagnose(tenantPod('p1'), [], [], { autoscalerViews: new Map([['large', asgTemplateView({ tags }, 'prod')]]) });
    assert.deepEqual(codes(findings), ['MalformedTaintTag/large', 'AutoscalerCannotSeeGroup/large']);
    assert.match(findings[1]!.message, /lack taint size=large:NoSchedule/);
  });
  test('correct ASG tags change nothing: the autoscaler should scale up', () => {
    const views = new Map([...renderAsgTags(DEFAULT_TENANT_CLASSES, 'prod').groups].map((g) => [g.name, asgTemplateView(g, 'prod')]));
    assert.deepEqual(codes(diagnose(tenantPod('p1'), [], [], { autoscalerViews: views })), ['ScaleUpExpected/large']);
  });
});
