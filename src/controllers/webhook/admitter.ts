/**
 * The webhook's decision for one AdmissionReview: find the pod's workload and policy, count its
 * pods by capacity type (cache plus in-flight ledger), ask `decidePlacement`, and turn the
 * decision into the JSON Patch of `placementPatch`. Pods that are not placed (DaemonSets, Jobs,
 * bare pods, opted-out workloads, pods the user pinned) are admitted unchanged, with the reason.
 */
import type { Logger } from 'pino';
import { podFromKube, schedulingConstraintsFromKube, type KubePod, type KubeReplicaSet, type KubeWorkload } from '../../core/from-kube.js';
import type { WorkloadRef, WorkloadView } from '../../core/model.js';
import { workloadFromKube } from '../../core/from-kube.js';
import type { WebhookConfig } from '../../config/webhook-config.js';
import {
  decidePlacement,
  isPlacedKind,
  statefulSetOrdinal,
  type PlacedCapacityType,
  type PlacedWorkloadKind,
  type PlacementDecision,
  type PlacementInput,
} from '../../policy/placement/decide.js';
import {
  CAPACITY_TYPE_ANNOTATION,
  DEFAULT_PLACEMENT_PATCH_OPTIONS,
  escapeJsonPointer,
  placementPatch,
  type JsonPatchOperation,
  type PlacementPatchOptions,
  type RawPod,
} from '../../policy/placement/patch.js';
import { PlacementAnnotation, resolvePlacementPolicy } from '../../policy/placement/policy.js';
import { RESERVATION_ANNOTATION, type ReservationLedger } from './ledger.js';
import type { DecisionReason, SkipReason, WebhookMetrics } from './metrics.js';
import type { PlacementIndex } from './placement-index.js';
import { pinnedCapacityType, placementGroupOf, replicasForFloor } from '../../policy/placement/inputs.js';
import type { AdmissionRequest } from './review.js';

/**
 * Reads what the informer cache does not hold yet. A Deployment's first pods are created
 * milliseconds after the Deployment, often before its watch event reaches the webhook.
 */
export interface ObjectLookup {
  replicaSet(namespace: string, name: string): Promise<KubeReplicaSet | undefined>;
  workload(kind: PlacedWorkloadKind, namespace: string, name: string): Promise<KubeWorkload | undefined>;
  namespace(name: string): Promise<{ readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } } | undefined>;
}

export interface PlacementAdmitterOptions {
  readonly config: WebhookConfig;
  readonly index: PlacementIndex;
  readonly ledger: ReservationLedger;
  /** Reads on a cache miss; without it a miss admits the pod unchanged. */
  readonly lookup?: ObjectLookup;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  readonly log?: Logger;
  readonly metrics?: WebhookMetrics;
  /** Decide and log, but admit every pod unchanged and reserve nothing. */
  readonly dryRun?: boolean;
}

/** What the webhook did with one review. */
export type AdmitResult =
  | {
      readonly outcome: 'patched';
      readonly patch: readonly JsonPatchOperation[];
      readonly decision: PlacementDecision;
      readonly workload: WorkloadRef;
      /** A reinvocation re-applying the earlier decision: nothing was counted or reserved. */
      readonly reinvoked: boolean;
    }
  | { readonly outcome: 'unchanged'; readonly skipped: SkipReason; readonly detail: string; readonly decision?: PlacementDecision };

/** The pod label that opts one workload's pods out before the webhook is even called (objectSelector). */
export const PLACEMENT_LABEL = PlacementAnnotation.Placement;

function _unchanged(skipped: SkipReason, detail: string, decision?: PlacementDecision): AdmitResult {
  return { outcome: 'unchanged', skipped, detail, ...(decision === undefined ? {} : { decision }) };
}

/** The bounded label of a decision's reason, from the same inputs `decidePlacement` read. */
export function decisionReason(input: Pick<PlacementInput, 'workload' | 'ordinal'>, decision: PlacementDecision): DecisionReason {
  if (!decision.required) return 'fallback';
  if (input.workload.kind === 'StatefulSet' && input.ordinal !== undefined && input.ordinal < decision.floor) return 'ordinal-below-floor';
  return decision.capacityType === 'on-demand' ? 'below-floor' : 'floor-met';
}

/**
 * Decides placement for AdmissionReviews. Everything between reading the counts and recording
 * the reservation is synchronous, so concurrent reviews (the ReplicaSet controller's bursts)
 * each see the reservations of the ones answered before them.
 *
 * @example
 * const admitter = new PlacementAdmitter({ config, index, ledger, lookup, log, metrics });
 * const result = await admitter.admit(parseAdmissionReview(body));
 * reviewResponse(request.uid, result.outcome === 'patched' ? result.patch : []);
 */
export class PlacementAdmitter {
  readonly #config: WebhookConfig;
  readonly #index: PlacementIndex;
  readonly #ledger: ReservationLedger;
  readonly #lookup: ObjectLookup | undefined;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  readonly #metrics: WebhookMetrics | undefined;
  readonly #dryRun: boolean;
  readonly #optOut: ReadonlySet<string>;

  constructor(options: PlacementAdmitterOptions) {
    this.#config = options.config;
    this.#index = options.index;
    this.#ledger = options.ledger;
    this.#lookup = options.lookup;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#dryRun = options.dryRun ?? false;
    this.#optOut = new Set(options.config.optOutNamespaces);
  }

  /**
   * Decides for one review. `signal` aborts when the server has already answered (its deadline
   * passed): the decision is then dropped before anything is reserved.
   *
   * @throws whatever a lookup or a malformed pod throws; the server admits the pod unchanged
   */
  async admit(request: AdmissionRequest, signal?: AbortSignal): Promise<AdmitResult> {
    const result = await this.#admit(request, signal);
    if (result.outcome === 'unchanged') {
      this.#metrics?.skipped.inc({ reason: result.skipped });
      this.#log?.debug({ uid: request.uid, namespace: request.namespace, skipped: result.skipped }, `Admitting unchanged: ${result.detail}`);
    }
    else if (result.reinvoked) this.#metrics?.skipped.inc({ reason: 'reinvoked' });
    return result;
  }

  async #admit(request: AdmissionRequest, signal: AbortSignal | undefined): Promise<AdmitResult> {
    const object = request.object;
    if (request.operation !== 'CREATE' || request.kind.kind !== 'Pod' || request.kind.group !== '' || request.subResource !== '' || object === undefined) {
      return _unchanged('not-a-pod-create', `${request.operation} of ${request.kind.kind || 'an object'}${request.subResource ? `/${request.subResource}` : ''} is not a pod creation`);
    }
    const raw = object as KubePod & RawPod;
    const namespace = request.namespace || (raw.metadata?.namespace ?? '');
    const name = request.name || (raw.metadata?.name ?? '');
    // ReplicaSet pods have only a generateName at admission; the apiserver names them afterwards.
    const generateName = raw.metadata?.['generateName'];
    const podName = `${namespace}/${name || `${typeof generateName === 'string' ? generateName : ''}*`}`;
    // The object may lack its namespace at admission; owner resolution and counting key on it.
    const pod: KubePod & RawPod = { ...raw, metadata: { ...raw.metadata, namespace, ...(name ? { name } : {}) } };

    if (this.#optOut.has(namespace)) return _unchanged('namespace-opted-out', `Namespace "${namespace}" is opted out in the configuration`);
    if (pod.metadata?.labels?.[PLACEMENT_LABEL] === 'disabled') return _unchanged('pod-opted-out', `Pod "${podName}" is labelled ${PLACEMENT_LABEL}=disabled`);
    const controller = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
    if (controller === undefined || (controller.kind !== 'ReplicaSet' && controller.kind !== 'StatefulSet')) {
      return _unchanged('not-placed-kind', `Pod "${podName}" is ${controller === undefined ? 'not controlled by a workload' : `controlled by ${controller.kind ?? 'an unknown kind'}`}`);
    }

    let rs: KubeReplicaSet | undefined;
    if (controller.kind === 'ReplicaSet') rs = await this.#cached('replicaSet', this.#index.replicaSet(namespace, controller.name ?? ''), () => this.#lookup?.replicaSet(namespace, controller.name ?? ''));
    const owner = this.#index.ownerOf(pod, rs);
    if (!isPlacedKind(owner.kind)) return _unchanged('not-placed-kind', `Pod "${podName}" belongs to ${owner.kind} "${owner.namespace}/${owner.name}", which is not placed`);
    const kind = owner.kind;
    const cachedWorkload = this.#index.workload(owner);
    const workload: WorkloadView | undefined = await this.#cached('workload', cachedWorkload, async () => {
      const fetched = await this.#lookup?.workload(kind, namespace, owner.name);
      return fetched === undefined ? undefined : workloadFromKube(fetched, kind);
    });
    if (workload === undefined) {
      this.#log?.warn({ pod: podName, workload: `${owner.kind}/${namespace}/${owner.name}` }, `Admitting pod "${podName}" unchanged: ${owner.kind} "${namespace}/${owner.name}" not found`);
      return _unchanged('workload-not-found', `${owner.kind} "${namespace}/${owner.name}" not found`);
    }
    const nsAnnotations = await this.#cached('namespace', this.#index.namespaceAnnotations(namespace), async () => (await this.#lookup?.namespace(namespace))?.metadata?.annotations ?? {});
    const resolved = resolvePlacementPolicy(workload.annotations, nsAnnotations, this.#config.placement);
    for (const note of resolved.notes) this.#log?.warn({ workload: `${owner.kind}/${namespace}/${owner.name}` }, note);
    if (resolved.optOut) return _unchanged('workload-opted-out', resolved.reason);
    const policy = resolved.policy;
    const options: PlacementPatchOptions = {
      ...DEFAULT_PLACEMENT_PATCH_OPTIONS,
      capacityLabel: this.#config.capacityLabel,
      deletionCost: this.#config.deletionCost,
      ...(policy.spotToleration === undefined ? {} : { spotToleration: policy.spotToleration }),
    };

    const earlier = pod.metadata?.annotations?.[CAPACITY_TYPE_ANNOTATION];
    if (pod.metadata?.annotations?.[RESERVATION_ANNOTATION] !== undefined && (earlier === 'spot' || earlier === 'on-demand')) {
      // Reinvoked after a later webhook changed the pod: merge the same decision in again.
      const decision: PlacementDecision = { capacityType: earlier, required: !_prefersOnly(pod, earlier, options), floor: 0, reason: `re-applying the decision recorded on pod "${podName}"` };
      return { outcome: 'patched', patch: placementPatch(pod, decision, options), decision, workload: owner, reinvoked: true };
    }
    const pinned = pinnedCapacityType(schedulingConstraintsFromKube(pod.spec ?? {}), options.capacityLabel);
    if (pinned !== undefined) return _unchanged('pinned-by-user', `Pod "${podName}" already selects ${options.capacityLabel.key}${pinned === 'other' ? '' : `=${options.capacityLabel.values[pinned]}`}`);

    // From here to the reservation nothing awaits: concurrent reviews cannot interleave.
    if (signal?.aborted === true) return _unchanged('deadline', `The deadline passed before pod "${podName}" was decided`);
    const view = podFromKube(pod, () => owner);
    const group = placementGroupOf(view);
    const now = this.#now();
    const live = this.#index.liveCounts(group);
    const reserved = this.#ledger.counts(group, now);
    const ordinal = kind === 'StatefulSet' ? statefulSetOrdinal(name, owner.name) : undefined;
    const desiredReplicas = replicasForFloor(workload.replicas, live, reserved, ordinal);
    const inFlight = { 'on-demand': this.#ledger.requested('on-demand', now), spot: this.#ledger.requested('spot', now) };
    const room = this.#index.room(view, policy.spotToleration, inFlight);
    const input: PlacementInput = {
      workload: { ...owner, kind },
      desiredReplicas,
      live,
      reserved,
      ...(ordinal === undefined ? {} : { ordinal }),
      room,
      policy,
    };
    const decision = decidePlacement(input);
    const reason = decisionReason(input, decision);
    // Flat scalars: pino writes them without a generic stringify, which was most of a decision's cost.
    const fields = {
      pod: podName,
      workload: `${owner.kind}/${namespace}/${owner.name}`,
      // The revision the pod is counted with (a Deployment's ReplicaSet).
      ...(controller.kind === 'ReplicaSet' ? { replicaSet: controller.name } : {}),
      capacityType: decision.capacityType,
      required: decision.required,
      reasonCode: reason,
      floor: decision.floor,
      replicas: desiredReplicas,
      onDemand: live.onDemand,
      spot: live.spot,
      inFlightOnDemand: reserved.onDemand,
      inFlightSpot: reserved.spot,
      roomOnDemand: room.onDemand,
      roomSpot: room.spot,
      dryRun: this.#dryRun || request.dryRun,
    };
    if (this.#dryRun) {
      this.#log?.info(fields, `Dry run: would place pod "${podName}" on ${decision.capacityType}: ${decision.reason}`);
      return _unchanged('dry-run', decision.reason, decision);
    }
    const patch = [
      ...placementPatch(pod, decision, options),
      // placementPatch has created the annotations object when the pod had none.
      { op: 'add', path: `/metadata/annotations/${escapeJsonPointer(RESERVATION_ANNOTATION)}`, value: request.uid } as const,
    ];
    // A server-side dry run creates nothing: reserving would count a pod that never comes.
    if (!request.dryRun) this.#ledger.reserve({ id: request.uid, group, capacityType: decision.capacityType, requests: view.requests }, now);
    this.#metrics?.decisions.inc({ capacity_type: decision.capacityType, reason });
    this.#log?.info(fields, `Placing pod "${podName}" on ${decision.capacityType}: ${decision.reason}`);
    return { outcome: 'patched', patch, decision, workload: owner, reinvoked: false };
  }

  /** The cached value, else the lookup's, counting which one served. */
  async #cached<T>(what: string, cached: T | undefined, fetch: () => Promise<T | undefined> | undefined): Promise<T | undefined> {
    if (cached !== undefined) {
      this.#metrics?.lookups.inc({ source: 'cache' });
      return cached;
    }
    const fetched = await fetch();
    this.#metrics?.lookups.inc({ source: 'api' });
    this.#log?.debug({ what }, 'Cache miss: read from the API');
    return fetched;
  }
}

/** Whether the pod carries the webhook's preferred (fallback) term for `type` rather than a required one. */
function _prefersOnly(pod: RawPod, type: PlacedCapacityType, options: PlacementPatchOptions): boolean {
  const { key, values } = options.capacityLabel;
  const preferred = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return preferred.some((p) => (p.preference?.matchExpressions ?? []).some((r) => r.key === key && r.operator === 'In' && r.values?.length === 1 && r.values[0] === values[type]));
}
