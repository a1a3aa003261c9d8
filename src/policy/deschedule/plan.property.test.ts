import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ClusterSnapshot, NodeView, PdbView, PodView, SchedulingConstraints, WorkloadView } from '../../core/model.js';
import { PriceTable } from '../../core/pricing.js';
import { workloadKey } from '../../core/snapshot.js';
import { checkFit } from '../fit/filter.js';
import { FitState } from '../fit/state.js';
import { replacementPod } from '../placement/replacement.js';
import { implicitFloor } from './guards.js';
import { DEFAULT_DESCHEDULING_CONFIG, planDescheduling } from './plan.js';
import type { DeschedulingConfig } from './plan.js';
import type { DeschedulingContext } from './types.js';
import { GiB, node, pod, snapshot } from './fixtures.test-helper.js';

const now = 3_600_000;
const prices = PriceTable.create({ instanceTypes: { 'm5.xlarge': { onDemand: 0.192, spot: 0.08 } } });
const spotTaint = { key: 'node.kubernetes.io/capacity', value: 'spot', effect: 'NoSchedule' } as const;
const spotToleration = { key: 'node.kubernetes.io/capacity', operator: 'Equal', value: 'spot', effect: 'NoSchedule' } as const;

interface _Spec {
  readonly nodes: readonly { readonly spot: boolean; readonly cpu: number; readonly tainted: boolean; readonly zone: number }[];
  readonly workloads: readonly { readonly replicas: number; readonly cpu: number; readonly anti: boolean; readonly pdb: 'none' | 'zero' | 'one'; readonly kind: 'Deployment' | 'StatefulSet' }[];
  readonly hosts: readonly number[];
  readonly placement: boolean;
  readonly budgets: DeschedulingConfig['budgets'];
}

const specArb: fc.Arbitrary<_Spec> = fc.record({
  nodes: fc.array(fc.record({ spot: fc.boolean(), cpu: fc.constantFrom(2000, 4000), tainted: fc.boolean(), zone: fc.integer({ min: 0, max: 1 }) }), { minLength: 2, maxLength: 6 }),
  workloads: fc.array(
    fc.record({
      replicas: fc.integer({ min: 1, max: 6 }),
      cpu: fc.constantFrom(250, 500, 1000),
      anti: fc.boolean(),
      pdb: fc.constantFrom('none' as const, 'zero' as const, 'one' as const),
      kind: fc.constantFrom('Deployment' as const, 'Deployment' as const, 'StatefulSet' as const),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  hosts: fc.array(fc.nat(), { minLength: 20, maxLength: 20 }),
  placement: fc.boolean(),
  budgets: fc.record({ maxEvictionsPerCycle: fc.integer({ min: 0, max: 12 }), maxEvictionsPerNode: fc.integer({ min: 1, max: 6 }), maxEvictionsPerNamespace: fc.integer({ min: 1, max: 8 }) }),
});

/** Builds the cluster; pods land round-robin by `hosts`, skipping nodes without room or with an untolerated taint. */
function build(spec: _Spec): ClusterSnapshot {
  const nodes: NodeView[] = spec.nodes.map((n, i) =>
    node(`n${i}`, { capacityType: n.spot ? 'spot' : 'on-demand', zone: `zone-${n.zone}`, allocatable: { cpu: n.cpu, memory: 16 * GiB, pods: 110 }, taints: n.spot && n.tainted ? [spotTaint] : [] }),
  );
  const used = new Map<string, number>();
  const pods: PodView[] = [];
  const workloads: WorkloadView[] = [];
  const pdbs: PdbView[] = [];
  let h = 0;
  spec.workloads.forEach((w, wi) => {
    const name = `w${wi}`;
    const ref = { kind: w.kind, namespace: wi % 2 === 0 ? 'default' : 'shop', name };
    workloads.push({ ref, replicas: w.replicas, selector: { matchLabels: { app: name } }, annotations: {}, labels: {} });
    if (w.pdb !== 'none') pdbs.push({ namespace: ref.namespace, name, selector: { matchLabels: { app: name } }, maxUnavailable: 1, disruptionsAllowed: w.pdb === 'zero' ? 0 : 1, currentHealthy: w.replicas, desiredHealthy: w.replicas - 1, expectedPods: w.replicas });
    const constraints: SchedulingConstraints = {
      tolerations: [spotToleration],
      ...(w.anti ? { podAntiAffinity: { required: [{ labelSelector: { matchLabels: { app: name } }, topologyKey: 'kubernetes.io/hostname' }] } } : {}),
    };
    for (let r = 0; r < w.replicas; r++) {
      // First node with room from a random start; a pod that fits nowhere is left out of the snapshot.
      const start = spec.hosts[h++ % spec.hosts.length] ?? 0;
      for (let k = 0; k < nodes.length; k++) {
        const n = nodes[(start + k) % nodes.length] as NodeView;
        if ((used.get(n.name) ?? 0) + w.cpu > (n.allocatable['cpu'] ?? 0)) continue;
        used.set(n.name, (used.get(n.name) ?? 0) + w.cpu);
        pods.push(pod(w.kind === 'StatefulSet' ? `${name}-${r}` : `${name}-p${r}`, n.name, { namespace: ref.namespace, owner: ref, labels: { app: name }, requests: { cpu: w.cpu, memory: GiB }, constraints }));
        break;
      }
    }
  });
  // Workloads whose pods did not all fit are short of replicas, as a real cluster with Pending pods would be.
  return snapshot({ nodes, pods, workloads, pdbs });
}

test('property: plans are deterministic, all-or-nothing per node, within budgets and guards, and fit where they say', () => {
  fc.assert(
    fc.property(specArb, (spec) => {
      const s = build(spec);
      const config: DeschedulingConfig = {
        ...DEFAULT_DESCHEDULING_CONFIG,
        budgets: spec.budgets,
        strategies: { ...DEFAULT_DESCHEDULING_CONFIG.strategies, balance: { ...DEFAULT_DESCHEDULING_CONFIG.strategies.balance, enabled: true } },
      };
      const ctx: DeschedulingContext = { now, prices, ...(spec.placement ? { placement: { defaults: { base: 1, percent: 0, fallback: { onDemandToSpot: true, spotToOnDemand: true }, spotToleration } } } : {}) };
      const plan = planDescheduling(s, config, ctx);
      assert.deepEqual(planDescheduling(s, config, ctx), plan, 'deterministic');

      const byUid = new Map(s.pods.map((p) => [p.uid, p] as const));
      // Each pod moves at most once.
      assert.equal(new Set(plan.moves.map((m) => m.pod.uid)).size, plan.moves.length);
      // Budgets.
      assert.ok(plan.moves.length <= spec.budgets.maxEvictionsPerCycle);
      const count = (key: (m: (typeof plan.moves)[number]) => string): Map<string, number> => {
        const c = new Map<string, number>();
        for (const m of plan.moves) c.set(key(m), (c.get(key(m)) ?? 0) + 1);
        return c;
      };
      for (const n of count((m) => m.fromNode).values()) assert.ok(n <= spec.budgets.maxEvictionsPerNode);
      for (const n of count((m) => m.pod.namespace).values()) assert.ok(n <= spec.budgets.maxEvictionsPerNamespace);
      // Guards: one pod per workload per wave of a job (jobs, a node's drain each, run one at a time;
      // surges that must land safely get waves of their own first); a PDB's pods per wave within
      // what it allows; no eviction under a PDB that allows 0 (a surge-first move evicts nothing, so it may go).
      for (const n of count((m) => `${m.fromNode}|${workloadKey(m.workload)}@${m.wave}`).values()) assert.equal(n, 1);
      for (const m of plan.moves) {
        const w = spec.workloads[Number(m.workload.name.slice(1))];
        if (m.mode === 'evict') assert.notEqual(w?.pdb, 'zero', `${m.pod.name} evicted under a PDB allowing 0`);
        // Single-replica StatefulSets never move; single Ready replica Deployments move surge-first.
        const ready = s.pods.filter((p) => p.owner.name === m.workload.name).length;
        if (ready <= 1) assert.equal(m.mode, 'surge-first');
        assert.ok(m.workload.kind === 'Deployment' || ready > 1);
        // Without a PDB, an eviction leaves what a default rollout keeps; else a Deployment surges first, other kinds stay.
        if (w?.pdb === 'none' && ready > 1) {
          const withinBudget = ready - 1 >= implicitFloor(w.replicas);
          assert.equal(m.mode, withinBudget ? 'evict' : 'surge-first', `${m.pod.name}: ${ready} Ready of ${w.replicas}`);
          if (!withinBudget) assert.equal(m.workload.kind, 'Deployment', `${m.pod.name} of a ${m.workload.kind} moved below its implicit budget`);
        }
      }
      // All or nothing: a drain moves every pod of its node but those it lists as staying; an emptied
      // node (nothing stays) has all its pods moved, by this drain or an earlier one of the plan.
      const drained = new Set<string>();
      for (const d of plan.drains) {
        const onNode = s.pods.filter((p) => p.nodeName === d.node).map((p) => p.name).sort();
        const movedOff = plan.moves.filter((m) => m.fromNode === d.node).map((m) => m.pod.name);
        assert.deepEqual(d.pods.map((p) => p.name).filter((n) => !movedOff.includes(n)), [], `drain of ${d.node} lists pods it does not move`);
        if (d.staying.length === 0) {
          assert.deepEqual([...movedOff].sort(), onNode, `drain of ${d.node} leaves pods behind`);
          drained.add(d.node);
        } else {
          // What is left on the node stayed by this drain (a later strategy may still move it).
          const staying = d.staying.map((p) => p.name);
          assert.deepEqual(onNode.filter((n) => !movedOff.includes(n) && !staying.includes(n)), [], `drain of ${d.node} does not account for its pods`);
        }
      }
      // Destinations: never an emptied node; the replacement fits there by resources, taints and node affinity once all moves are made.
      const state = FitState.fromSnapshot(s);
      const moved: { readonly replacement: PodView; readonly to: string }[] = [];
      for (const m of plan.moves) {
        assert.ok(!drained.has(m.toNode), `${m.pod.name} sent to emptied node ${m.toNode}`);
        const original = byUid.get(m.pod.uid) as PodView;
        const replacement = m.capacityType !== undefined || original.annotations['stowage.io/capacity-type'] !== undefined ? replacementPod(original, m.capacityType, { capacityLabel: { key: 'node.kubernetes.io/capacity', values: { spot: 'spot', 'on-demand': 'on-demand' } }, spotToleration }) : original;
        state.forget(original);
        state.assume(replacement, m.toNode);
        moved.push({ replacement, to: m.toNode });
      }
      for (const { replacement, to } of moved) {
        const fit = checkFit(state, replacement, to, ['NodeResourcesFit', 'TaintToleration', 'NodeAffinity']);
        assert.ok(fit.ok, `${replacement.name} on ${to}: ${fit.ok ? '' : fit.reason}`);
      }
      // Every node a strategy looked at and did not drain has a reason.
      for (const skip of plan.skipped) assert.ok(skip.reason.message.length > 0);
    }),
    { numRuns: 300 },
  );
});
