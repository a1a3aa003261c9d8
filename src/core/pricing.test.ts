import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_PRICE_TABLE,
  DEFAULT_SPOT_RATIO,
  ESTIMATE_USD_PER_GIB_HOUR,
  ESTIMATE_USD_PER_VCPU_HOUR,
  mergePriceTables,
  parsePriceTable,
  PriceTable,
  PriceTableError,
} from './pricing.js';

const GIB = 1024 ** 3;
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe('PriceTable.priceOf', () => {
  const table = PriceTable.create({ spotRatio: 0.3, instanceTypes: { 'm5.large': { onDemand: 0.096 }, 'c5.large': { onDemand: 0.085, spot: 0.04 } } });

  it('prices on-demand and unknown capacity at the on-demand price', () => {
    assert.equal(table.priceOf('m5.large', 'on-demand'), 0.096);
    assert.equal(table.priceOf('m5.large', 'unknown'), 0.096);
  });
  it('prices spot by the explicit price, else by the ratio', () => {
    assert.equal(table.priceOf('c5.large', 'spot'), 0.04);
    close(table.priceOf('m5.large', 'spot') ?? Number.NaN, 0.0288);
  });
  it('returns undefined for an unlisted type', () => {
    assert.equal(table.priceOf('m5.24xlarge', 'on-demand'), undefined);
  });
  it('lists its types sorted', () => {
    assert.deepEqual(table.instanceTypes(), ['c5.large', 'm5.large']);
  });
  it('rejects negative prices and bad ratios', () => {
    assert.throws(() => PriceTable.create({ instanceTypes: { x: { onDemand: -1 } } }), {
      name: 'RangeError',
      message: 'Invalid price table: instanceTypes["x"].onDemand: expected a number >= 0, got -1',
    });
    assert.throws(() => PriceTable.create({ spotRatio: 0, instanceTypes: {} }), RangeError);
    assert.throws(() => PriceTable.create({ spotRatio: 1.5, instanceTypes: {} }), RangeError);
    assert.throws(() => PriceTable.create({ instanceTypes: { x: { onDemand: Number.POSITIVE_INFINITY } } }), RangeError);
  });
});

describe('PriceTable.hourlyPriceOfNode', () => {
  const m5Large = { cpu: 2000, memory: 8 * GIB };
  it('uses the table when the type is listed', () => {
    assert.deepEqual(DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ instanceType: 'm5.large', capacityType: 'on-demand', allocatable: m5Large }), {
      usdPerHour: 0.096,
      source: 'table',
    });
    const spot = DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ instanceType: 'm5.large', capacityType: 'spot', allocatable: m5Large });
    assert.equal(spot.source, 'table');
    close(spot.usdPerHour, 0.096 * DEFAULT_SPOT_RATIO);
  });
  it('estimates an unlisted type from allocatable, reproducing m5 and r5 list prices', () => {
    const m5 = DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ instanceType: 'm5.24xlarge', capacityType: 'on-demand', allocatable: { cpu: 96000, memory: 384 * GIB } });
    assert.equal(m5.source, 'estimate');
    close(m5.usdPerHour, 4.608); // the m5.24xlarge list price
    const r5 = DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ instanceType: '', capacityType: 'unknown', allocatable: { cpu: 2000, memory: 16 * GIB } });
    close(r5.usdPerHour, 0.126); // the r5.large list price
  });
  it('estimates spot with the ratio and treats missing resources as 0', () => {
    const spot = DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ instanceType: 'x1.weird', capacityType: 'spot', allocatable: { cpu: 4000 } });
    close(spot.usdPerHour, 4 * ESTIMATE_USD_PER_VCPU_HOUR * DEFAULT_SPOT_RATIO);
    const none = DEFAULT_PRICE_TABLE.hourlyPriceOfNode({ instanceType: 'x1.weird', capacityType: 'on-demand', allocatable: {} });
    assert.deepEqual(none, { usdPerHour: 0, source: 'estimate' });
  });
  it('states rates that reproduce m5.large exactly', () => {
    close(2 * ESTIMATE_USD_PER_VCPU_HOUR + 8 * ESTIMATE_USD_PER_GIB_HOUR, 0.096);
  });
});

describe('DEFAULT_PRICE_TABLE', () => {
  it('covers the promised families and sizes', () => {
    const types = new Set(DEFAULT_PRICE_TABLE.instanceTypes());
    for (const family of ['t3', 't3a']) for (const size of ['medium', 'large', 'xlarge', '2xlarge']) assert.ok(types.has(`${family}.${size}`), `${family}.${size}`);
    for (const family of ['m5', 'm6i', 'm7i']) for (const size of ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge']) assert.ok(types.has(`${family}.${size}`), `${family}.${size}`);
    for (const family of ['c5', 'c6i', 'c7i', 'r5', 'r6i']) for (const size of ['large', 'xlarge', '2xlarge', '4xlarge']) assert.ok(types.has(`${family}.${size}`), `${family}.${size}`);
  });
  it('doubles price with size within a family, as AWS list prices do', () => {
    for (const family of ['m5', 'm6i', 'm7i', 'c6i', 'c7i']) {
      const sizes = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge'];
      for (let i = 1; i < sizes.length; i++) {
        const smaller = DEFAULT_PRICE_TABLE.priceOf(`${family}.${sizes[i - 1]}`, 'on-demand') ?? Number.NaN;
        close(DEFAULT_PRICE_TABLE.priceOf(`${family}.${sizes[i]}`, 'on-demand') ?? Number.NaN, smaller * 2);
      }
    }
  });
  it('has the reference prices', () => {
    assert.equal(DEFAULT_PRICE_TABLE.priceOf('m5.large', 'on-demand'), 0.096);
    assert.equal(DEFAULT_PRICE_TABLE.priceOf('c5.large', 'on-demand'), 0.085);
    assert.equal(DEFAULT_PRICE_TABLE.priceOf('r5.large', 'on-demand'), 0.126);
    assert.equal(DEFAULT_PRICE_TABLE.priceOf('t3.medium', 'on-demand'), 0.0416);
    assert.equal(DEFAULT_PRICE_TABLE.spotRatio, DEFAULT_SPOT_RATIO);
  });
});

describe('parsePriceTable', () => {
  const valid = {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'PriceTable',
    metadata: { name: 'eu-west-1' },
    spec: { spotRatio: 0.35, instanceTypes: { 'm5.large': { onDemand: 0.107, spot: 0.04 }, 'c5.large': { onDemand: 0.096 } } },
  };

  it('builds a table from a valid file', () => {
    const table = parsePriceTable(valid);
    assert.equal(table.spotRatio, 0.35);
    assert.equal(table.priceOf('m5.large', 'spot'), 0.04);
    close(table.priceOf('c5.large', 'spot') ?? Number.NaN, 0.0336);
    assert.deepEqual(table.toSpec(), { spotRatio: 0.35, instanceTypes: { 'c5.large': { onDemand: 0.096 }, 'm5.large': { onDemand: 0.107, spot: 0.04 } } });
  });

  const INVALID: readonly (readonly [string, unknown, string])[] = [
    ['not an object', 'hello', 'Invalid price table: expected an object'],
    ['wrong apiVersion', { ...valid, apiVersion: 'v1' }, 'Invalid price table: apiVersion: expected "stowage.io/v1alpha1"'],
    ['wrong kind', { ...valid, kind: 'ConfigMap' }, 'Invalid price table: kind: expected "PriceTable"'],
    ['no spec', { apiVersion: 'stowage.io/v1alpha1', kind: 'PriceTable' }, 'Invalid price table: spec: required'],
    [
      'negative on-demand',
      { ...valid, spec: { instanceTypes: { 'm5.large': { onDemand: -0.1 } } } },
      'Invalid price table: spec.instanceTypes["m5.large"].onDemand: expected a number >= 0',
    ],
    [
      'string on-demand',
      { ...valid, spec: { instanceTypes: { 'm5.large': { onDemand: '0.096' } } } },
      'Invalid price table: spec.instanceTypes["m5.large"].onDemand: expected a number >= 0',
    ],
    ['missing on-demand', { ...valid, spec: { instanceTypes: { 'm5.large': { spot: 0.03 } } } }, 'Invalid price table: spec.instanceTypes["m5.large"].onDemand: required'],
    [
      'a typo in a field',
      { ...valid, spec: { instanceTypes: { 'm5.large': { ondemand: 0.096, onDemand: 0.096 } } } },
      'Invalid price table: spec.instanceTypes["m5.large"]: unknown field "ondemand"',
    ],
    ['spot ratio of 0', { ...valid, spec: { spotRatio: 0, instanceTypes: {} } }, 'Invalid price table: spec.spotRatio: expected a number > 0 and <= 1'],
    ['spot ratio above 1', { ...valid, spec: { spotRatio: 2, instanceTypes: {} } }, 'Invalid price table: spec.spotRatio: expected a number > 0 and <= 1'],
    ['instanceTypes not an object', { ...valid, spec: { instanceTypes: [] } }, 'Invalid price table: spec.instanceTypes: expected an object'],
    [
      'several problems at once',
      { ...valid, kind: 'X', spec: { instanceTypes: { a: { onDemand: -1 }, b: { onDemand: 1, spot: Number.NaN } } } },
      'Invalid price table: kind: expected "PriceTable"; spec.instanceTypes.a.onDemand: expected a number >= 0; spec.instanceTypes.b.spot: expected a number >= 0',
    ],
  ];
  for (const [name, input, message] of INVALID) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parsePriceTable(input), (error: unknown) => {
        assert.ok(error instanceof PriceTableError);
        assert.equal(error.message, message);
        assert.ok(!error.message.includes('\n'));
        return true;
      });
    });
  }
});

describe('mergePriceTables', () => {
  const base = PriceTable.create({ spotRatio: 0.5, instanceTypes: { 'm5.large': { onDemand: 0.096 }, 'c5.large': { onDemand: 0.085 } } });

  it('replaces entries per type and keeps the others', () => {
    const merged = mergePriceTables(base, PriceTable.create({ instanceTypes: { 'm5.large': { onDemand: 0.1, spot: 0.03 }, 'x.large': { onDemand: 1 } } }));
    assert.deepEqual(merged.instanceTypes(), ['c5.large', 'm5.large', 'x.large']);
    assert.equal(merged.priceOf('m5.large', 'on-demand'), 0.1);
    assert.equal(merged.priceOf('m5.large', 'spot'), 0.03);
    assert.equal(merged.priceOf('c5.large', 'on-demand'), 0.085);
    // The override set no ratio, so the base's applies.
    assert.equal(merged.spotRatio, 0.5);
    close(merged.priceOf('c5.large', 'spot') ?? Number.NaN, 0.0425);
  });

  it("takes the override's ratio when it sets one, for base entries too", () => {
    const merged = mergePriceTables(base, PriceTable.create({ spotRatio: 0.2, instanceTypes: {} }));
    close(merged.priceOf('c5.large', 'spot') ?? Number.NaN, 0.017);
  });

  it('leaves both inputs unchanged', () => {
    mergePriceTables(base, PriceTable.create({ spotRatio: 0.2, instanceTypes: { 'm5.large': { onDemand: 9 } } }));
    assert.equal(base.priceOf('m5.large', 'on-demand'), 0.096);
    assert.equal(base.spotRatio, 0.5);
  });
});
