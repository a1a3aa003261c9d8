/**
 * The spot interruption handler (aws-node-termination-handler in queue mode, or the managed
 * equivalent): on a spot interruption notice it cordons the node and drains it through the
 * Eviction API, retrying evictions a PDB refuses until the instance is gone two minutes later.
 * Pods still on the node then die with it.
 */
import { CordonReason } from './cluster.js';
import type { SimCluster, SimNode } from './cluster.js';
import type { Engine } from './engine.js';
import { DeletionCause } from './pods.js';
import type { Scenario } from './scenario.js';
import type { Workloads } from './workloads.js';

/** Drains nodes on spot notices. */
export class InterruptionHandler {
  readonly #engine: Engine;
  readonly #cluster: SimCluster;
  readonly #workloads: Workloads;
  readonly #config: Scenario['interruptionHandler'];

  constructor(engine: Engine, cluster: SimCluster, workloads: Workloads, config: Scenario['interruptionHandler']) {
    this.#engine = engine;
    this.#cluster = cluster;
    this.#workloads = workloads;
    this.#config = config;
  }

  /** EC2 sent the 2-minute notice for `node`. */
  onNotice(node: SimNode): void {
    if (!this.#config.enabled || node.state === 'gone') return;
    this.#cluster.cordon(node, CordonReason.SpotNotice);
    this.#drain(node);
  }

  #drain(node: SimNode): void {
    if (node.state === 'gone') return;
    let blocked = 0;
    for (const pod of [...node.pods]) {
      if (pod.owner.ref.kind === 'DaemonSet' || pod.terminating) continue;
      if (!this.#workloads.evict(pod, DeletionCause.SpotDrain)) blocked++;
    }
    if (blocked > 0) this.#engine.after(this.#config.evictionRetry, () => this.#drain(node));
  }
}
