import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QuantityError } from './quantity.js';
import {
  addResources,
  fitsIn,
  formatAmount,
  formatBytes,
  formatCpu,
  formatResources,
  maxResources,
  resourcesFromList,
  subtractResources,
  sumResources,
  wouldFit,
} from './resources.js';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

describe('resourcesFromList', () => {
  it('converts cpu to millicores and everything else to rounded-up units', () => {
    assert.deepEqual(resourcesFromList({ cpu: '1.5', memory: '1536Mi', 'ephemeral-storage': '10G', pods: '110', 'nvidia.com/gpu': '1', 'hugepages-2Mi': '1Gi' }), {
      cpu: 1500,
      memory: 1536 * MI,
      'ephemeral-storage': 10_000_000_000,
      pods: 110,
      'nvidia.com/gpu': 1,
      'hugepages-2Mi': GI,
    });
    // Upstream rounds up: 1n of cpu is 1m, 1m of memory is 1 byte.
    assert.deepEqual(resourcesFromList({ cpu: '1n', memory: '1m' }), { cpu: 1, memory: 1 });
    assert.deepEqual(resourcesFromList({}), {});
  });

  it('names the resource of a bad value', () => {
    assert.throws(() => resourcesFromList({ cpu: '1', memory: '12x' }), (error: unknown) => {
      assert.ok(error instanceof QuantityError);
      assert.equal(error.message, 'Invalid quantity "12x" for resource "memory": unknown suffix "x"');
      assert.equal(error.input, '12x');
      return true;
    });
  });
});

describe('resource arithmetic', () => {
  const a = { cpu: 1000, memory: 2 * GI, pods: 1 };
  const b = { cpu: 250, 'nvidia.com/gpu': 1 };

  it('adds over the union of names', () => {
    assert.deepEqual(addResources(a, b), { cpu: 1250, memory: 2 * GI, pods: 1, 'nvidia.com/gpu': 1 });
    assert.deepEqual(addResources({}, {}), {});
  });
  it('sums many', () => {
    assert.deepEqual(sumResources([a, b, { cpu: 1 }]), { cpu: 1251, memory: 2 * GI, pods: 1, 'nvidia.com/gpu': 1 });
    assert.deepEqual(sumResources([]), {});
  });
  it('subtracts, going negative when overcommitted', () => {
    assert.deepEqual(subtractResources(a, b), { cpu: 750, memory: 2 * GI, pods: 1, 'nvidia.com/gpu': -1 });
  });
  it('takes the max per name', () => {
    assert.deepEqual(maxResources({ cpu: 100, memory: 5 }, { cpu: 50, memory: 9, pods: 1 }), { cpu: 100, memory: 9, pods: 1 });
  });
  it('does not touch its inputs', () => {
    const before = structuredClone(a);
    addResources(a, b);
    subtractResources(a, b);
    maxResources(a, b);
    assert.deepEqual(a, before);
  });
});

describe('fitsIn', () => {
  const free = { cpu: 1000, memory: GI, pods: 3 };
  const CASES: readonly (readonly [string, Record<string, number>, string[]])[] = [
    ['fits', { cpu: 500, memory: MI, pods: 1 }, []],
    ['fits exactly', { cpu: 1000, memory: GI, pods: 3 }, []],
    ['too much cpu', { cpu: 1001, memory: MI, pods: 1 }, ['cpu']],
    ['several short, in request order', { memory: 2 * GI, cpu: 2000, pods: 1 }, ['memory', 'cpu']],
    ['an unlisted resource is 0 available', { cpu: 1, 'nvidia.com/gpu': 1 }, ['nvidia.com/gpu']],
    ['a zero request for an unlisted resource fits', { cpu: 1, 'nvidia.com/gpu': 0 }, []],
    ['an empty request fits', {}, []],
  ];
  for (const [name, request, expected] of CASES) {
    it(name, () => {
      assert.deepEqual(fitsIn(request, free), expected);
      assert.equal(wouldFit(request, free), expected.length === 0);
    });
  }
  it('fails everything on a node with negative free', () => {
    assert.deepEqual(fitsIn({ cpu: 1 }, { cpu: -5 }), ['cpu']);
  });
});

describe('formatting', () => {
  const CPU: readonly (readonly [number, string])[] = [
    [0, '0'],
    [1, '1m'],
    [250, '250m'],
    [999, '999m'],
    [1000, '1'],
    [1500, '1.5'],
    [1250, '1.25'],
    [2001, '2.001'],
    [64000, '64'],
    [-500, '-500m'],
  ];
  for (const [milli, expected] of CPU) it(`formats ${milli} millicores as ${expected}`, () => assert.equal(formatCpu(milli), expected));

  const BYTES: readonly (readonly [number, string])[] = [
    [0, '0'],
    [512, '512'],
    [1023, '1023'],
    [1024, '1Ki'],
    [1536, '1.5Ki'],
    [2 * GI, '2Gi'],
    [1.5 * GI, '1.5Gi'],
    [1536 * MI + 1, '1.5Gi'],
    [1023.99 * MI, '1023.99Mi'],
    [1024 * MI - 1, '1Gi'],
    [1e9, '953.67Mi'],
    [3 * 1024 ** 4, '3Ti'],
    [-GI, '-1Gi'],
  ];
  for (const [bytes, expected] of BYTES) it(`formats ${bytes} bytes as ${expected}`, () => assert.equal(formatBytes(bytes), expected));

  it('formats amounts by resource', () => {
    assert.equal(formatAmount('cpu', 1500), '1.5');
    assert.equal(formatAmount('memory', GI), '1Gi');
    assert.equal(formatAmount('ephemeral-storage', 10 * GI), '10Gi');
    assert.equal(formatAmount('hugepages-2Mi', 2 * MI), '2Mi');
    assert.equal(formatAmount('nvidia.com/gpu', 2), '2');
  });

  it('formats resources for humans, well-known names first', () => {
    assert.equal(formatResources({ 'nvidia.com/gpu': 1, pods: 1, memory: 2 * GI, cpu: 1500, 'amd.com/gpu': 2 }), 'cpu 1.5, memory 2Gi, pods 1, amd.com/gpu 2, nvidia.com/gpu 1');
    assert.equal(formatResources({ cpu: 250 }), 'cpu 250m');
    assert.equal(formatResources({}), 'none');
  });
});
