import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GI, testNode, testSnapshot } from '../core/fixtures.test-helper.js';
import { diagnosePod, formatFinding } from './doctor.js';
import { antiAffinity, codes, diagnose, large, largeNode, namespaceLabels, tenantPod } from './doctor.test-helper.js';

describe('tenants doctor', () => {
  test('a well-formed tenant pod with its group at zero waits for the autoscaler', () => {
    assert.deepEqual(codes(diagnose(tenantPod('p1'))), ['ScaleUpExpected/large']);
  });

  test('no group matches the selector', () => {
    const findings = diagnose(tenantPod('p1', { nodeSelector: { size: 'huge' } }));
    assert.deepEqual(codes(findings), ['NoGroupMatchesSelector']);
    assert.equal(
      formatFinding(findings[0]!),
      'NoGroupMatchesSelector: the pod\'s nodeSelector {size=huge} matches no node group (groups: "large" {size=large}, "medium" {size=medium}) — fix: select one group\'s labels in the pod (e.g. nodeSelector {size=large}), or give a group the labels the pod selects',
    );
  });

  test('the pod does not tolerate the group taint', () => {
    const findings = diagnose(tenantPod('p1', { tolerations: [] }));
    assert.deepEqual(codes(findings), ['TaintNotTolerated/large']);
    assert.equal(
      formatFinding(findings[0]!),
      'TaintNotTolerated: the pod does not tolerate taint size=large:NoSchedule of node group "large" — fix: add the toleration {key: size, operator: Equal, value: large, effect: NoSchedule} to the pod (stowage tenants create adds it)',
    );
  });

  test('the group is at max, and anti-affinity leaves none of its nodes', () => {
    const nodes = ['l1', 'l2', 'l3'].map((n) => largeNode(n));
    const placed = ['p2', 'p3', 'p4'].map((n, i) => tenantPod(n, {}, { nodeName: `l${i + 1}`, phase: 'Running', ready: true }));
    const findings = diagnose(tenantPod('p1'), nodes, placed);
    assert.deepEqual(codes(findings), ['GroupAtMax/large', 'AntiAffinityLeavesNoNode/large']);
    assert.match(formatFinding(findings[0]!), /^GroupAtMax: node group "large" is at its max size 3 \(3 node\(s\)\): no new node can be added — fix: raise maxSize of node group "large"/);
    assert.match(formatFinding(findings[1]!), /^AntiAffinityLeavesNoNode: one-pod-per-node anti-affinity leaves no node: each of the 3 node\(s\) of group "large" already runs a tenant pod/);
  });

  test('below max, an occupied node only means a new one is coming', () => {
    const findings = diagnose(tenantPod('p1'), [largeNode('l1')], [tenantPod('p2', {}, { nodeName: 'l1', phase: 'Running', ready: true })]);
    assert.deepEqual(codes(findings), ['ScaleUpExpected/large']);
  });

  test('a free node of the group takes the pod now', () => {
    assert.deepEqual(codes(diagnose(tenantPod('p1'), [largeNode('l1')])), ['NodeFitsNow/large']);
  });

  test('anti-affinity on a topology a new node shares refuses even a new node', () => {
    const zoneAnti = { required: [{ ...antiAffinity.required![0]!, topologyKey: 'topology.kubernetes.io/zone' }] };
    const nodes = [largeNode('l1', { 'topology.kubernetes.io/zone': 'us-east-1a' })];
    const placed = [tenantPod('p2', {}, { nodeName: 'l1', phase: 'Running', ready: true })];
    assert.deepEqual(codes(diagnose(tenantPod('p1', { podAntiAffinity: zoneAnti }), nodes, placed)), ['AntiAffinityLeavesNoNode/large']);
  });




  test('requests larger than the instance type', () => {
    assert.deepEqual(codes(diagnose(tenantPod('p1', {}, { requests: { cpu: 8000, memory: GI } }))), ['RequestsExceedInstance/large']);
  });

  test('group nodes without a hostname label are flagged', () => {
    const bare = { ...largeNode('l1'), labels: { size: 'large', 'stowage.io/node-group': 'large' } };
    const placed = [tenantPod('p2', {}, { nodeName: 'l1', phase: 'Running', ready: true })];
    const findings = diagnose(tenantPod('p1'), [bare], placed);
    assert.deepEqual(codes(findings), ['HostnameLabelMissing/large', 'NodeFitsNow/large']);
  });

  test('a group is a set of nodes by label: the general node never counts', () => {
    const findings = diagnosePod({ pod: tenantPod('p1'), snapshot: testSnapshot([testNode('general')]), groups: [large], namespaceLabels });
    assert.deepEqual(codes(findings), ['ScaleUpExpected/large']);
  });
});
