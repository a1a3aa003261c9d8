/**
 * The scheduler's Prometheus metrics, named after kube-scheduler's own (`scheduler_schedule_attempts_total`,
 * `scheduler_scheduling_attempt_duration_seconds`, `scheduler_pending_pods`, `scheduler_preemption_*`)
 * with Stowage's prefix, so the same dashboards read both.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { QueueLengths } from '../../policy/schedule/queue.js';

/** kube-scheduler's buckets: 1 ms doubling to about 16 s. */
const _LATENCY_BUCKETS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];

/** The metrics one scheduler process exports. */
export class SchedulerMetrics {
  /** By result: scheduled, unschedulable, error (a bind that failed); and profile. */
  readonly attempts: Counter<'result' | 'profile'>;
  /** One scheduling cycle (filter, score, preemption), by result and profile. */
  readonly attemptSeconds: Histogram<'result' | 'profile'>;
  /** From the pod entering the queue to its bind confirmed by the apiserver, by attempts taken. */
  readonly podSchedulingSeconds: Histogram<'attempts'>;
  readonly bindSeconds: Histogram;
  readonly binds: Counter<'result'>;
  readonly preemptionAttempts: Counter;
  readonly preemptionVictims: Counter;
  /** PodGroups admitted (minMember held room, all bound) or rejected, by outcome (admitted, or the rejection's code). */
  readonly gangOutcomes: Counter<'outcome'>;
  /** Events, status writes and victim deletes dropped because too many were waiting, and Events left waiting at stop (the work goes on). */
  readonly dropped: Counter<'kind'>;

  /** The queue the pending-pods gauge reads; set by the scheduler of the current leadership term. */
  #lengths: () => QueueLengths = () => ({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });

  constructor(registry: Registry) {
    const lengths = (): QueueLengths => this.#lengths();
    const registers = [registry];
    this.attempts = new Counter({ name: 'stowage_scheduler_schedule_attempts_total', help: 'Scheduling attempts, by result (scheduled, unschedulable, error) and profile', labelNames: ['result', 'profile'], registers });
    this.attemptSeconds = new Histogram({ name: 'stowage_scheduler_scheduling_attempt_duration_seconds', help: 'Time of one scheduling cycle (filter, score, preemption), by result and profile', labelNames: ['result', 'profile'], buckets: _LATENCY_BUCKETS, registers });
    this.podSchedulingSeconds = new Histogram({ name: 'stowage_scheduler_pod_scheduling_duration_seconds', help: 'From a pod entering the queue to its bind, by the attempts it took (1, 2, ..., 15+)', labelNames: ['attempts'], buckets: _LATENCY_BUCKETS, registers });
    this.bindSeconds = new Histogram({ name: 'stowage_scheduler_binding_duration_seconds', help: 'Time of the pods/binding request, retries included', buckets: _LATENCY_BUCKETS, registers });
    this.binds = new Counter({ name: 'stowage_scheduler_binds_total', help: 'Binds, by result (bound, conflict, gone, error)', labelNames: ['result'], registers });
    this.preemptionAttempts = new Counter({ name: 'stowage_scheduler_preemption_attempts_total', help: 'Preemptions carried out (a node nominated and its victims deleted)', registers });
    this.preemptionVictims = new Counter({ name: 'stowage_scheduler_preemption_victims_total', help: 'Pods deleted to make room for a higher-priority pod', registers });
    this.gangOutcomes = new Counter({ name: 'stowage_scheduler_gang_outcomes_total', help: 'PodGroups admitted, or rejected by reason (GroupDoesNotFit, Timeout, Yielded)', labelNames: ['outcome'], registers });
    this.dropped = new Counter({ name: 'stowage_scheduler_dropped_writes_total', help: 'Events, pod status writes and victim deletes dropped because too many were waiting (Events also when left waiting at stop), by kind', labelNames: ['kind'], registers });
    new Gauge({
      name: 'stowage_scheduler_pending_pods',
      help: 'Pods in the scheduling queue, by part (active, backoff, unschedulable, inFlight)',
      labelNames: ['queue'],
      registers,
      collect() {
        const l = lengths();
        this.set({ queue: 'active' }, l.active);
        this.set({ queue: 'backoff' }, l.backoff);
        this.set({ queue: 'unschedulable' }, l.unschedulable);
        this.set({ queue: 'inFlight' }, l.inFlight);
      },
    });
  }

  /** The pending-pods gauge reads this queue from now on. */
  watchQueue(lengths: () => QueueLengths): void {
    this.#lengths = lengths;
  }
}
