import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstFitDecreasing, PackingBound } from './packing-bound.js';
import type { BinType } from './packing-bound.js';

const GI = 2 ** 30;
/** A small seeded generator of numbers in [0, 1), so the random rounds are the same every run. */
function _random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const close = (actual: number | undefined, expected: number, message?: string): void => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${message ?? ''} expected ${expected}, got ${actual}`);
};

test('one type: the LP bound is the binding resource in fractional nodes, first-fit decreasing rounds whole pods up', () => {
  const m: BinType = { name: 'm', cpu: 2_000, memory: 8 * GI, pods: 10, hourlyPrice: 0.1 };
  const bound = new PackingBound([m]);
  // 10 pods of 500m/1Gi: 5 cores (2.5 nodes), 10 GiB (1.25 nodes), 10 slots (1 node) → 2.5 nodes.
  const figures = bound.figures([{ cpu: 500, memory: GI, count: 10 }]);
  close(figures.lpUsdPerHour, 0.25);
  // Four pods per node by cpu: 3 nodes.
  close(figures.ffdUsdPerHour, 0.3);
});

test('two types: the LP mixes them where neither alone is cheapest; first-fit decreasing takes the cheaper single type', () => {
  const c: BinType = { name: 'c', cpu: 4_000, memory: 8 * GI, pods: 100, hourlyPrice: 0.17 };
  const r: BinType = { name: 'r', cpu: 2_000, memory: 16 * GI, pods: 100, hourlyPrice: 0.126 };
  const bound = new PackingBound([c, r]);
  // 8 cores and 40 GiB: c alone needs 5 nodes ($0.85), r alone 4 ($0.504), 1 c + 2 r cover both exactly ($0.422).
  close(bound.lpUsdPerHour(8_000, 40 * GI, 8), 0.422);
  // Eight pods of 1 core / 5 GiB: one per c node (8 × 0.17), two per r node (4 × 0.126).
  close(bound.ffdUsdPerHour([{ cpu: 1_000, memory: 5 * GI, count: 8 }]), 0.504);
  // With cpu only, c's cores are cheaper (0.0425 $/core against r's 0.063).
  close(bound.lpUsdPerHour(8_000, 0, 0), 0.34);
});

test('pod slots bind when pods are tiny', () => {
  const bound = new PackingBound([{ name: 'small', cpu: 4_000, memory: 16 * GI, pods: 4, hourlyPrice: 1 }]);
  const figures = bound.figures([{ cpu: 10, memory: 2 ** 20, count: 10 }]);
  close(figures.lpUsdPerHour, 2.5);
  close(figures.ffdUsdPerHour, 3);
});

test('first-fit decreasing packs the textbook example in two bins, and reports a pod that fits no node', () => {
  const bin: BinType = { name: 'b', cpu: 10, memory: 100, pods: 100, hourlyPrice: 1 };
  // 6 → bin 1 (4 left), 5 → bin 2 (5 left), 4 → bin 1 (0), 3 → bin 2 (2), 2 → bin 2 (0).
  assert.equal(firstFitDecreasing(bin, [6, 5, 4, 3, 2].map((cpu) => ({ cpu, memory: 1, count: 1 }))), 2);
  // Three 4s, then three 3s: 4+4 | 4+3+3 | 3 → 3 bins (21 units need 3 anyway).
  assert.equal(firstFitDecreasing(bin, [{ cpu: 4, memory: 1, count: 3 }, { cpu: 3, memory: 1, count: 3 }]), 3);
  assert.equal(firstFitDecreasing(bin, [{ cpu: 11, memory: 1, count: 1 }]), undefined);
  assert.equal(firstFitDecreasing(bin, []), 0);
  assert.equal(new PackingBound([bin]).ffdUsdPerHour([{ cpu: 11, memory: 1, count: 1 }]), undefined);
});

test('the LP bound never exceeds first-fit decreasing, on random catalogues and demands', () => {
  const next = _random(7);
  for (let round = 0; round < 200; round++) {
    const types: BinType[] = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, i) => ({
      name: `t${i}`,
      cpu: 1_000 * (1 + Math.floor(next() * 16)),
      memory: GI * (2 + Math.floor(next() * 62)),
      pods: 8 + Math.floor(next() * 100),
      hourlyPrice: 0.01 + next(),
    }));
    const groups = Array.from({ length: 1 + Math.floor(next() * 20) }, () => ({ cpu: 50 + Math.floor(next() * 900), memory: Math.floor(next() * GI), count: 1 + Math.floor(next() * 30) }));
    const f = new PackingBound(types).figures(groups);
    assert.ok(f.ffdUsdPerHour !== undefined);
    assert.ok(f.lpUsdPerHour <= f.ffdUsdPerHour + 1e-9, `round ${round}: LP ${f.lpUsdPerHour} above FFD ${f.ffdUsdPerHour}`);
    // No cheaper than buying the cheapest $/core for all the cpu (a weaker bound the LP must meet).
    const cpu = groups.reduce((s, g) => s + g.cpu * g.count, 0);
    const perCore = Math.min(...types.map((t) => t.hourlyPrice / (t.cpu / 1_000)));
    assert.ok(f.lpUsdPerHour >= (cpu / 1_000) * perCore - 1e-9);
  }
});

test('first-fit decreasing opens as many nodes as placing the sorted pods one by one on the first node with room', () => {
  const next = _random(11);
  for (let round = 0; round < 300; round++) {
    const type: BinType = { name: 't', cpu: 1_000 * (1 + Math.floor(next() * 8)), memory: GI * (1 + Math.floor(next() * 32)), pods: 2 + Math.floor(next() * 30), hourlyPrice: 1 };
    const groups = Array.from({ length: 1 + Math.floor(next() * 25) }, () => ({
      cpu: Math.floor(next() * type.cpu * 0.7),
      memory: Math.floor(next() * type.memory * 0.7),
      count: Math.floor(next() * 40),
    }));
    // The oracle: one pod at a time, in the order the packing sorts them, over a plain list of nodes.
    const pods = groups
      .flatMap((g) => Array.from({ length: g.count }, () => g))
      .sort((a, b) => Math.max(b.cpu / type.cpu, b.memory / type.memory) - Math.max(a.cpu / type.cpu, a.memory / type.memory) || b.cpu - a.cpu || b.memory - a.memory);
    const nodes: { cpu: number; memory: number; pods: number }[] = [];
    for (const pod of pods) {
      let node = nodes.find((n) => n.cpu >= pod.cpu && n.memory >= pod.memory && n.pods >= 1);
      if (node === undefined) {
        node = { cpu: type.cpu, memory: type.memory, pods: type.pods };
        nodes.push(node);
      }
      node.cpu -= pod.cpu;
      node.memory -= pod.memory;
      node.pods -= 1;
    }
    assert.equal(firstFitDecreasing(type, groups), nodes.length, `round ${round}`);
  }
});

test("an on-demand floor: the floor's pods are bought on on-demand, the rest on the cheaper spot", () => {
  const od: BinType = { name: 'm/on-demand', cpu: 2_000, memory: 8 * GI, pods: 10, hourlyPrice: 0.1 };
  const spot: BinType = { name: 'm/spot', cpu: 2_000, memory: 8 * GI, pods: 10, hourlyPrice: 0.03, capacityType: 'spot' };
  const bound = new PackingBound([od, spot]);
  // 10 pods of 500m/1Gi. No floor: 5 cores on spot, 2.5 nodes ($0.075); whole nodes: 3 ($0.09).
  const free = bound.figures([{ cpu: 500, memory: GI, count: 10 }]);
  close(free.lpUsdPerHour, 0.075);
  close(free.ffdUsdPerHour, 0.09);
  // Four kept on on-demand: 2 cores there (one node, $0.1), 3 cores on spot (1.5 nodes, $0.045);
  // whole nodes: 1 on-demand + 2 spot.
  const kept = bound.figures([{ cpu: 500, memory: GI, count: 10, onDemand: 4 }]);
  close(kept.lpUsdPerHour, 0.145);
  close(kept.ffdUsdPerHour, 0.16);
});

test('an on-demand floor: other pods fill the room the floor leaves on its on-demand nodes', () => {
  const od: BinType = { name: 'm/on-demand', cpu: 4_000, memory: 16 * GI, pods: 100, hourlyPrice: 0.2 };
  const spot: BinType = { name: 'c/spot', cpu: 4_000, memory: 8 * GI, pods: 100, hourlyPrice: 0.1, capacityType: 'spot' };
  const bound = new PackingBound([od, spot]);
  // One memory-heavy floor pod takes a whole on-demand node's memory and leaves 3 cores, which hold
  // the three cpu-only pods: one node in all. Bounding the floor and the rest apart would add 0.75
  // spot nodes ($0.275): not a lower bound.
  const groups = [
    { cpu: 1_000, memory: 16 * GI, count: 1, onDemand: 1 },
    { cpu: 1_000, memory: 0, count: 3 },
  ];
  close(bound.lpOf(groups), 0.2);
  // First-fit decreasing packs the two parts apart (a feasible packing, above the bound).
  close(bound.ffdUsdPerHour(groups), 0.3);
});

test('the floor-aware LP bound lies between the floorless bound and first-fit decreasing, on random catalogues and floors', () => {
  const next = _random(23);
  for (let round = 0; round < 200; round++) {
    const types: BinType[] = Array.from({ length: 2 + Math.floor(next() * 6) }, (_, i) => ({
      name: `t${i}`,
      cpu: 1_000 * (1 + Math.floor(next() * 16)),
      memory: GI * (2 + Math.floor(next() * 62)),
      pods: 8 + Math.floor(next() * 100),
      hourlyPrice: 0.01 + next(),
      // The first type on-demand, so the floor always has somewhere to go.
      capacityType: i > 0 && next() < 0.5 ? ('spot' as const) : ('on-demand' as const),
    }));
    const groups = Array.from({ length: 1 + Math.floor(next() * 20) }, () => {
      const count = 1 + Math.floor(next() * 30);
      return { cpu: 50 + Math.floor(next() * 900), memory: Math.floor(next() * GI), count, onDemand: Math.floor(next() * (count + 1)) };
    });
    const bound = new PackingBound(types);
    const f = bound.figures(groups);
    const floorless = bound.lpOf(groups.map(({ cpu, memory, count }) => ({ cpu, memory, count })));
    assert.ok(f.ffdUsdPerHour !== undefined);
    // The simplex answers to 1e-8 (its precision), the vertex method to the last digit.
    assert.ok(f.lpUsdPerHour >= floorless - 1e-7, `round ${round}: floor-aware ${f.lpUsdPerHour} below floorless ${floorless}`);
    assert.ok(f.lpUsdPerHour <= f.ffdUsdPerHour + 1e-9, `round ${round}: LP ${f.lpUsdPerHour} above FFD ${f.ffdUsdPerHour}`);
    // With every pod kept, only on-demand types may be bought: the floorless bound over those.
    const allKept = groups.map((g) => ({ ...g, onDemand: g.count }));
    const onDemandOnly = new PackingBound(types.filter((t) => t.capacityType !== 'spot')).lpOf(groups.map(({ cpu, memory, count }) => ({ cpu, memory, count })));
    assert.ok(Math.abs(bound.lpOf(allKept) - onDemandOnly) <= 1e-6 * Math.max(1, onDemandOnly), `round ${round}: all kept ${bound.lpOf(allKept)} against on-demand only ${onDemandOnly}`);
  }
});
