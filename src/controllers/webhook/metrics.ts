/**
 * The webhook's Prometheus metrics. Label values are bounded sets (capacity types, reason codes,
 * outcomes), except the per-workload gauges, which have one series per placed workload, like
 * kube-state-metrics' per-Deployment series.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PlacedCapacityType } from '../../policy/placement/decide.js';

/** Why a decision went the way it did, as a bounded label value. */
export type DecisionReason =
  /** On-demand pods (live and in flight) are below the floor. */
  | 'below-floor'
  /** The floor is met: spot. */
  | 'floor-met'
  /** A StatefulSet ordinal below the floor: on-demand whatever the counts. */
  | 'ordinal-below-floor'
  /** The chosen type has no room: only preferred, the other type allowed. */
  | 'fallback';

/** Why a pod was admitted unchanged. */
export type SkipReason =
  | 'not-a-pod-create'
  | 'namespace-opted-out'
  | 'pod-opted-out'
  | 'workload-opted-out'
  | 'not-placed-kind'
  | 'workload-not-found'
  | 'pinned-by-user'
  | 'reinvoked'
  | 'dry-run'
  | 'deadline';

/**
 * How a review ended, for the latency histogram. `shed`: answered at once under overload (more
 * reviews or large bodies in flight than the limits, or its deadline gone before it was decided).
 */
export type ReviewOutcome = 'patched' | 'unchanged' | 'failed-open' | 'rejected' | 'shed';

/** One workload's on-demand pods against its floor. */
export interface WorkloadSplitSample {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly desiredOnDemand: number;
  readonly onDemand: number;
  readonly spot: number;
}

export interface WebhookMetricsSources {
  /** Read at each scrape. */
  readonly splits?: () => Iterable<WorkloadSplitSample>;
  readonly reservationsInFlight?: () => number;
  readonly reservationsExpired?: () => number;
}

/**
 * Registers the webhook's metrics on `registry`.
 *
 * @example
 * const metrics = new WebhookMetrics(createRegistry(), { splits: () => index.splits() });
 * metrics.decisions.inc({ capacity_type: 'spot', reason: 'floor-met' });
 */
export class WebhookMetrics {
  /** Seconds from the first byte of a review to the end of the answer, by outcome. */
  readonly admissionDuration: Histogram<'outcome'>;
  readonly reviews: Counter<'outcome'>;
  readonly decisions: Counter<'capacity_type' | 'reason'>;
  readonly skipped: Counter<'reason'>;
  /**
   * `bad-request`: HTTP 400/404/405/413/415; `internal`: admitted unchanged after an error
   * (fail-open); `deadline`: no decision in time; `overload`: shed (see {@link ReviewOutcome}).
   */
  readonly errors: Counter<'kind'>;
  readonly informerRestarts: Counter<'informer'>;
  readonly lookups: Counter<'source'>;
  /** TLS connections accepted: a high rate relative to reviews means the client is not reusing them. */
  readonly connections: Counter;

  constructor(registry: Registry, sources: WebhookMetricsSources = {}) {
    const registers = [registry];
    this.admissionDuration = new Histogram({
      name: 'stowage_webhook_admission_duration_seconds',
      help: 'Time to answer one AdmissionReview, from its first byte to the end of the response',
      labelNames: ['outcome'],
      // The apiserver waits at most timeoutSeconds (<= 5 s); the interesting range is sub-millisecond to tens of ms.
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.reviews = new Counter({ name: 'stowage_webhook_reviews_total', help: 'AdmissionReviews answered, by outcome', labelNames: ['outcome'], registers });
    this.decisions = new Counter({
      name: 'stowage_webhook_decisions_total',
      help: 'Placement decisions made, by capacity type and reason',
      labelNames: ['capacity_type', 'reason'],
      registers,
    });
    this.skipped = new Counter({ name: 'stowage_webhook_skipped_total', help: 'Pods admitted unchanged without a decision, by reason', labelNames: ['reason'], registers });
    this.errors = new Counter({ name: 'stowage_webhook_errors_total', help: 'Reviews rejected as malformed (bad-request), admitted unchanged after an internal error (internal) or too late (deadline), or shed under overload (overload)', labelNames: ['kind'], registers });
    this.informerRestarts = new Counter({ name: 'stowage_webhook_informer_restarts_total', help: 'Informer restarts after watch errors or idle watches', labelNames: ['informer'], registers });
    this.lookups = new Counter({ name: 'stowage_webhook_lookups_total', help: 'Owner and namespace lookups, from the informer cache or, on a miss, the API', labelNames: ['source'], registers });
    this.connections = new Counter({ name: 'stowage_webhook_tls_connections_total', help: 'TLS connections accepted on the webhook port', registers });
    const reservations = sources.reservationsInFlight;
    new Gauge({
      name: 'stowage_webhook_reservations_in_flight',
      help: 'Decisions answered whose pods are not yet in the informer cache',
      registers,
      collect() {
        this.set(reservations?.() ?? 0);
      },
    });
    const expired = sources.reservationsExpired;
    new Counter({
      name: 'stowage_webhook_reservations_expired_total',
      help: 'Reservations dropped after their TTL without their pod appearing (rejected after admission, or a slow watch)',
      registers,
      collect() {
        this.reset();
        this.inc(expired?.() ?? 0);
      },
    });
    const splits = sources.splits;
    const labels = ['namespace', 'kind', 'name'] as const;
    // Each gauge reads the splits in its own collect: the registry serialises a metric right
    // after collecting it, so one collect filling both would leave the first one a scrape behind.
    new Gauge({
      name: 'stowage_webhook_workload_on_demand_desired',
      help: 'On-demand replicas the policy requires (the floor), per workload',
      labelNames: labels,
      registers,
      collect() {
        this.reset();
        for (const s of splits?.() ?? []) this.set({ namespace: s.namespace, kind: s.kind, name: s.name }, s.desiredOnDemand);
      },
    });
    new Gauge({
      name: 'stowage_webhook_workload_pods',
      help: 'Live pods per workload and capacity type (every revision), to compare with the desired on-demand floor',
      labelNames: [...labels, 'capacity_type'],
      registers,
      collect() {
        this.reset();
        for (const s of splits?.() ?? []) {
          const l = { namespace: s.namespace, kind: s.kind, name: s.name };
          this.set({ ...l, capacity_type: 'on-demand' satisfies PlacedCapacityType }, s.onDemand);
          this.set({ ...l, capacity_type: 'spot' satisfies PlacedCapacityType }, s.spot);
        }
      },
    });
  }
}
