/**
 * Pod lifecycle: created (Pending) → bound → started and Ready after its start-up delay →
 * deleted: not Ready at once (removed from endpoints), still holding its node's resources
 * during graceful shutdown, then gone. A pod on a node that disappears dies with it.
 *
 * The controller of a pod (its `PodOwner`) hears of every step, the way the ReplicaSet and Job
 * controllers watch their pods: a deleted pod is replaced at once, while it still terminates.
 */
import type { Engine } from './engine.js';
import { DeletionCause } from './cluster.js';
import type { SimCluster, SimNode, SimPod, PodSpec } from './cluster.js';

export { DeletionCause } from './cluster.js';

/** Who the lifecycle tells about scheduling-relevant changes. */
export interface PodLifecycleListener {
  /** A pod was created and waits to be scheduled. */
  onPodCreated(pod: SimPod): void;
  /** A pod was bound (its pending time is over). */
  onPodBound(pod: SimPod): void;
  /** Resources on `node` were freed: unschedulable pods may fit now. */
  onCapacityFreed(node: SimNode): void;
  /** A pod was deleted for `cause` (counted as an eviction when voluntary). */
  onPodDeleted(pod: SimPod, cause: DeletionCause): void;
}

/** Drives each pod through its lifecycle with timed events. */
export class PodLifecycle {
  readonly #engine: Engine;
  readonly #cluster: SimCluster;
  readonly #listener: PodLifecycleListener;

  constructor(engine: Engine, cluster: SimCluster, listener: PodLifecycleListener) {
    this.#engine = engine;
    this.#cluster = cluster;
    this.#listener = listener;
  }

  /** Creates a pending pod and hands it to the scheduler. */
  create(spec: PodSpec): SimPod {
    const pod = this.#cluster.createPod(spec, this.#engine.now);
    this.#listener.onPodCreated(pod);
    return pod;
  }

  /** Binds `pod` to `node` and starts it: Ready after its start-up delay. */
  bind(pod: SimPod, node: SimNode): void {
    this.#cluster.bind(pod, node, this.#engine.now);
    this.#listener.onPodBound(pod);
    pod.timer = this.#engine.after(pod.spec.startupMs, () => this.#becomeReady(pod));
  }

  #becomeReady(pod: SimPod): void {
    pod.timer = undefined;
    if (pod.terminating || pod.node === undefined) return;
    pod.phase = 'Running';
    pod.ready = true;
    pod.readyAt = this.#engine.now;
    pod.invalidate();
    pod.owner.onPodReady(pod);
    const runMs = pod.spec.runMs;
    if (runMs !== undefined) pod.timer = this.#engine.after(runMs, () => this.#succeed(pod));
  }

  /**
   * The pod's node stopped reporting Ready: the node-lifecycle controller marks its pods not
   * Ready (they stay, and keep their resources), so they leave their Services' endpoints. A
   * terminating pod is left to finish (the model has no stuck termination).
   */
  markNotReady(pod: SimPod): void {
    if (pod.terminating) return;
    // No kubelet to start it or run it: a pod still starting never becomes Ready there.
    this.#engine.cancel(pod.timer);
    pod.timer = undefined;
    if (!pod.ready) return;
    pod.ready = false;
    pod.invalidate();
    pod.owner.onPodUnready?.(pod);
  }

  /** A job pod's work is done: it leaves its node as Succeeded. */
  #succeed(pod: SimPod): void {
    pod.timer = undefined;
    if (pod.terminating) return;
    const node = pod.node;
    pod.phase = 'Succeeded';
    pod.ready = false;
    pod.invalidate();
    this.#cluster.removePod(pod, this.#engine.now);
    pod.owner.onPodSucceeded?.(pod);
    pod.owner.onPodGone(pod);
    if (node !== undefined) this.#listener.onCapacityFreed(node);
  }

  /**
   * Deletes a pod gracefully: it stops being Ready now, its controller is told (and replaces it),
   * and it leaves its node after its shutdown time. A pod not yet bound is gone at once.
   * Returns false when the pod was already terminating or gone.
   */
  delete(pod: SimPod, cause: DeletionCause): boolean {
    if (pod.terminating || !this.#cluster.pods.has(pod.uid)) return false;
    const now = this.#engine.now;
    const wasReady = pod.ready;
    pod.deletionRequestedAt = now;
    if (pod.node !== undefined && (cause === DeletionCause.Rollout || cause === DeletionCause.ScaleDown)) pod.node.controllerDeletedAt = now;
    pod.ready = false;
    pod.invalidate();
    this.#engine.cancel(pod.timer);
    pod.timer = undefined;
    this.#listener.onPodDeleted(pod, cause);
    pod.owner.onPodDeleting(pod, wasReady, cause);
    if (pod.node === undefined) {
      this.#cluster.removePod(pod, now);
      pod.owner.onPodGone(pod);
      return true;
    }
    this.#cluster.markTerminating(pod);
    pod.timer = this.#engine.after(pod.spec.shutdownMs, () => this.#terminated(pod));
    return true;
  }

  #terminated(pod: SimPod): void {
    pod.timer = undefined;
    const node = pod.node;
    pod.phase = 'Succeeded';
    pod.invalidate();
    this.#cluster.removePod(pod, this.#engine.now);
    pod.owner.onPodGone(pod);
    if (node !== undefined) this.#listener.onCapacityFreed(node);
  }

  /** The pod's node is gone (for `cause`): the pod dies now, without a graceful shutdown. */
  kill(pod: SimPod, cause: DeletionCause): void {
    if (!this.#cluster.pods.has(pod.uid)) return;
    const now = this.#engine.now;
    this.#engine.cancel(pod.timer);
    pod.timer = undefined;
    if (!pod.terminating) {
      const wasReady = pod.ready;
      pod.deletionRequestedAt = now;
      pod.ready = false;
      pod.owner.onPodDeleting(pod, wasReady, cause);
    }
    pod.phase = 'Failed';
    pod.invalidate();
    this.#cluster.removePod(pod, now);
    pod.owner.onPodGone(pod);
  }
}
