/**
 * The descheduler's Prometheus metrics: evictions, drains, nodes skipped by reason, and the
 * projected and realised saving in $/h.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The metrics one descheduler process exports. */
export class DeschedulerMetrics {
  readonly evictions: Counter<'strategy' | 'mode' | 'outcome'>;
  readonly drains: Counter<'strategy' | 'outcome'>;
  readonly skipped: Counter<'strategy' | 'reason'>;
  readonly projectedSaving: Gauge;
  readonly realisedSaving: Counter<'strategy'>;
  readonly cycles: Counter<'outcome'>;
  readonly cycleSeconds: Histogram;
  readonly rollbacks: Counter<'cause'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.evictions = new Counter({ name: 'stowage_descheduler_evictions_total', help: 'Pods moved, by strategy, mode (evict, surge-first) and outcome (done, blocked, misplaced: the replacement runs where the plan did not mean)', labelNames: ['strategy', 'mode', 'outcome'], registers });
    this.drains = new Counter({ name: 'stowage_descheduler_drains_total', help: 'Node drains, by strategy and outcome (done, failed, skipped)', labelNames: ['strategy', 'outcome'], registers });
    this.skipped = new Counter({ name: 'stowage_descheduler_skipped_nodes_total', help: 'Nodes a strategy left alone and drains refused on recheck, by reason code', labelNames: ['strategy', 'reason'], registers });
    this.projectedSaving = new Gauge({ name: 'stowage_descheduler_projected_saving_usd_per_hour', help: 'The $/h the last plan projects to save', registers });
    this.realisedSaving = new Counter({ name: 'stowage_descheduler_realised_saving_usd_per_hour_total', help: 'The $/h saved by drains carried out to the end, summed over drains', labelNames: ['strategy'], registers });
    this.cycles = new Counter({ name: 'stowage_descheduler_cycles_total', help: 'Descheduling cycles, by outcome', labelNames: ['outcome'], registers });
    this.cycleSeconds = new Histogram({ name: 'stowage_descheduler_cycle_seconds', help: 'Time a cycle takes, planning and carrying out', buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900], registers });
    this.rollbacks = new Counter({ name: 'stowage_descheduler_rollbacks_total', help: 'Drains rolled back (taint and record removed), by cause (failure, startup, signal)', labelNames: ['cause'], registers });
  }
}
