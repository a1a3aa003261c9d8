import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  matchesLabelSelector,
  matchesLabels,
  matchesNodeSelector,
  matchesNodeSelectorTerm,
  matchesRequiredNodeAffinity,
  parseInt64,
  taintsNotTolerated,
  toleratesTaint,
} from './labels.js';
import type { LabelSelector, NodeSelectorTerm, Taint, Toleration } from './model.js';

const LABELS = { app: 'cart', tier: 'web', 'topology.kubernetes.io/zone': 'us-east-1a' };

describe('matchesLabelSelector', () => {
  const CASES: readonly (readonly [string, LabelSelector | undefined, boolean])[] = [
    ['no selector matches nothing', undefined, false],
    ['an empty selector matches everything', {}, true],
    ['empty lists match everything', { matchLabels: {}, matchExpressions: [] }, true],
    ['matchLabels equal', { matchLabels: { app: 'cart' } }, true],
    ['matchLabels all must match', { matchLabels: { app: 'cart', tier: 'db' } }, false],
    ['matchLabels missing key', { matchLabels: { team: 'x' } }, false],
    ['matchLabels empty value needs the label', { matchLabels: { team: '' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, true],
    ['In other value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, false],
    ['In missing key', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] }, false],
    ['In without values is invalid', { matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, true],
    ['NotIn same value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, false],
    ['NotIn missing key matches', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, true],
    ['NotIn without values is invalid', { matchExpressions: [{ key: 'team', operator: 'NotIn' }] }, false],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['Exists missing', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, false],
    ['Exists with values is invalid', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['cart'] }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist present', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    ['Object.prototype members are not labels', { matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, true],
    ['labels and expressions are ANDed', { matchLabels: { app: 'cart' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, false],
    ['unknown operator is invalid', { matchExpressions: [{ key: 'app', operator: 'Gt' as 'In', values: ['1'] }] }, false],
  ];
  for (const [name, selector, expected] of CASES) {
    it(name, () => assert.equal(matchesLabelSelector(selector, LABELS), expected));
  }
});

describe('matchesLabels', () => {
  it('requires every pair', () => {
    assert.equal(matchesLabels({}, LABELS), true);
    assert.equal(matchesLabels({ app: 'cart', tier: 'web' }, LABELS), true);
    assert.equal(matchesLabels({ app: 'cart', tier: 'db' }, LABELS), false);
  });
});

describe('matchesNodeSelectorTerm', () => {
  const node = { name: 'node-1', labels: { 'node.kubernetes.io/instance-type': 'm5.large', cores: '4', disk: 'ssd' } };
  const CASES: readonly (readonly [string, NodeSelectorTerm, boolean])[] = [
    ['an empty term matches nothing', {}, false],
    ['empty lists match nothing', { matchExpressions: [], matchFields: [] }, false],
    ['In', { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd', 'nvme'] }] }, true],
    ['NotIn', { matchExpressions: [{ key: 'disk', operator: 'NotIn', values: ['ssd'] }] }, false],
    ['NotIn absent label', { matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['a100'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'disk', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, true],
    ['Gt', { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['3'] }] }, true],
    ['Gt equal is false', { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }, false],
    ['Lt', { matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['5'] }] }, true],
    ['Lt with a signed bound', { matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['+05'] }] }, true],
    ['Gt on a non-integer label is false', { matchExpressions: [{ key: 'disk', operator: 'Gt', values: ['1'] }] }, false],
    ['Gt on an absent label is false', { matchExpressions: [{ key: 'gpu', operator: 'Gt', values: ['-1'] }] }, false],
    ['Gt needs exactly one value', { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['1', '2'] }] }, false],
    ['Gt needs an integer value', { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['1.5'] }] }, false],
    ['Gt beyond int64 is invalid', { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['9223372036854775808'] }] }, false],
    ['requirements are ANDed', { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }, { key: 'cores', operator: 'Gt', values: ['8'] }] }, false],
    ['an invalid requirement fails the term even after a failing one', { matchExpressions: [{ key: 'disk', operator: 'In', values: ['hdd'] }, { key: 'x', operator: 'In', values: [] }] }, false],
    ['matchFields In metadata.name', { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }, true],
    ['matchFields In another name', { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-2'] }] }, false],
    ['matchFields NotIn', { matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['node-2'] }] }, true],
    ['matchFields unknown field reads as empty', { matchFields: [{ key: 'spec.providerID', operator: 'NotIn', values: ['x'] }] }, true],
    ['matchFields needs exactly one value', { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1', 'node-2'] }] }, false],
    ['matchFields only In and NotIn', { matchFields: [{ key: 'metadata.name', operator: 'Exists' }] }, false],
    [
      'expressions and fields are ANDed',
      { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }], matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-2'] }] },
      false,
    ],
  ];
  for (const [name, term, expected] of CASES) {
    it(name, () => assert.equal(matchesNodeSelectorTerm(term, node), expected));
  }

  it('skips matchFields for a node without a name, as upstream', () => {
    const term: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] };
    assert.equal(matchesNodeSelectorTerm(term, { name: '', labels: {} }), true);
  });
});

describe('matchesNodeSelector', () => {
  const node = { name: 'n', labels: { zone: 'a' } };
  const inA: NodeSelectorTerm = { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] };
  const inB: NodeSelectorTerm = { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] };
  const invalid: NodeSelectorTerm = { matchExpressions: [{ key: 'zone', operator: 'In', values: [] }] };
  it('ORs terms', () => {
    assert.equal(matchesNodeSelector([inB, inA], node), true);
    assert.equal(matchesNodeSelector([inB], node), false);
  });
  it('matches nothing with no terms or only empty ones', () => {
    assert.equal(matchesNodeSelector([], node), false);
    assert.equal(matchesNodeSelector([{}], node), false);
  });
  it('skips an invalid term and still tries the others', () => {
    assert.equal(matchesNodeSelector([invalid, inA], node), true);
  });
  it('combines nodeSelector and required affinity', () => {
    assert.equal(matchesRequiredNodeAffinity({}, node), true);
    assert.equal(matchesRequiredNodeAffinity({ nodeSelector: { zone: 'a' }, nodeAffinity: { required: [inA] } }, node), true);
    assert.equal(matchesRequiredNodeAffinity({ nodeSelector: { zone: 'b' }, nodeAffinity: { required: [inA] } }, node), false);
    assert.equal(matchesRequiredNodeAffinity({ nodeAffinity: { required: [] } }, node), false);
    assert.equal(matchesRequiredNodeAffinity({ nodeAffinity: { preferred: [{ weight: 1, preference: inB }] } }, node), true);
  });
});

describe('toleratesTaint', () => {
  const spot: Taint = { key: 'spot', value: 'true', effect: 'NoSchedule' };
  const CASES: readonly (readonly [string, Toleration, Taint, boolean])[] = [
    ['Equal with same key, value and effect', { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' }, spot, true],
    ['Equal is the default operator', { key: 'spot', value: 'true', effect: 'NoSchedule' }, spot, true],
    ['Equal with another value', { key: 'spot', operator: 'Equal', value: 'false', effect: 'NoSchedule' }, spot, false],
    ['Equal with no value against a valued taint', { key: 'spot', operator: 'Equal' }, spot, false],
    ['Equal with no value against an unvalued taint', { key: 'dedicated' }, { key: 'dedicated', effect: 'NoExecute' }, true],
    ['Equal with an empty value against an unvalued taint', { key: 'dedicated', value: '' }, { key: 'dedicated', effect: 'NoExecute' }, true],
    ['Exists ignores the value', { key: 'spot', operator: 'Exists' }, spot, true],
    ['Exists on another key', { key: 'gpu', operator: 'Exists' }, spot, false],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, spot, true],
    ['empty key with Exists tolerates any effect', { operator: 'Exists' }, { key: 'x', effect: 'NoExecute' }, true],
    ['empty key with Exists but an effect is limited to it', { operator: 'Exists', effect: 'NoExecute' }, spot, false],
    ['empty effect matches every effect', { key: 'spot', operator: 'Exists', effect: '' }, spot, true],
    ['another effect', { key: 'spot', operator: 'Exists', effect: 'NoExecute' }, spot, false],
    ['PreferNoSchedule toleration does not cover NoSchedule', { key: 'spot', operator: 'Exists', effect: 'PreferNoSchedule' }, spot, false],
    ['unknown operator tolerates nothing', { key: 'spot', operator: 'Gt' as 'Exists', value: '1' }, spot, false],
  ];
  for (const [name, toleration, taint, expected] of CASES) {
    it(name, () => assert.equal(toleratesTaint(toleration, taint), expected));
  }
});

describe('taintsNotTolerated', () => {
  const taints: Taint[] = [
    { key: 'spot', value: 'true', effect: 'NoSchedule' },
    { key: 'maintenance', effect: 'NoExecute' },
    { key: 'soft', effect: 'PreferNoSchedule' },
  ];
  it('lists every untolerated NoSchedule and NoExecute taint by default', () => {
    assert.deepEqual(taintsNotTolerated([], taints), [taints[0], taints[1]]);
    assert.deepEqual(taintsNotTolerated([{ key: 'spot', operator: 'Exists' }], taints), [taints[1]]);
    assert.deepEqual(taintsNotTolerated([{ operator: 'Exists' }], taints), []);
  });
  it('looks only at the given effects', () => {
    assert.deepEqual(taintsNotTolerated([], taints, ['PreferNoSchedule']), [taints[2]]);
    assert.deepEqual(taintsNotTolerated([], taints, ['NoExecute']), [taints[1]]);
    assert.deepEqual(taintsNotTolerated([], [], ['NoExecute']), []);
  });
});

describe('parseInt64', () => {
  it('parses like strconv.ParseInt(s, 10, 64)', () => {
    assert.equal(parseInt64('42'), 42n);
    assert.equal(parseInt64('-7'), -7n);
    assert.equal(parseInt64('+007'), 7n);
    assert.equal(parseInt64('9223372036854775807'), 2n ** 63n - 1n);
    assert.equal(parseInt64('-9223372036854775808'), -(2n ** 63n));
    assert.equal(parseInt64('9223372036854775808'), undefined);
    assert.equal(parseInt64(''), undefined);
    assert.equal(parseInt64('1_000'), undefined);
    assert.equal(parseInt64(' 1'), undefined);
    assert.equal(parseInt64('0x10'), undefined);
  });
});
