/**
 * PodGroups (`scheduling.x-k8s.io/v1alpha1`, scheduler-plugins' CRD, shipped in
 * deploy/scheduler/podgroup-crd.yaml) as the scheduler reads and reports them: one informer, the
 * spec converted for `src/policy/schedule/gang.ts`, and status writes (phase, counts, and a
 * `Scheduled` condition that says why a group is not placed).
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { toMillis } from '../../core/from-kube.js';
import { describeApiError } from '../../kube/errors.js';
import { ResilientInformer } from '../../kube/informer.js';
import type { Logger } from '../../observability/log.js';
import { DEFAULT_GANG_TIMEOUT_MS, type PodGroupSpec } from '../../policy/schedule/gang.js';

const GROUP = 'scheduling.x-k8s.io';
const VERSION = 'v1alpha1';
const PLURAL = 'podgroups';

/** A PodGroup object, as far as the scheduler reads it. */
export interface KubePodGroup extends KubernetesObject {
  readonly spec?: { readonly minMember?: number; readonly scheduleTimeoutSeconds?: number };
}

/** What the scheduler writes into a PodGroup's status. */
export interface PodGroupReport {
  /** scheduler-plugins' phases: Pending, Scheduling (members wait at Permit), Scheduled. */
  readonly phase: 'Pending' | 'Scheduling' | 'Scheduled';
  readonly scheduled?: number;
  /** Why the group is not placed (the condition `Scheduled=False`); absent once it is. */
  readonly reason?: { readonly code: string; readonly message: string };
}

/** See the module comment. */
export class PodGroups {
  readonly #informer: ResilientInformer<KubePodGroup>;
  readonly #api: CustomObjectsApi;
  readonly #log: Logger;
  /** The last report written per group, so an unchanged one is not written again. */
  readonly #written = new Map<string, string>();

  constructor(kc: KubeConfig, log: Logger) {
    this.#log = log;
    this.#api = kc.makeApiClient(CustomObjectsApi);
    this.#informer = new ResilientInformer<KubePodGroup>(kc, {
      name: PLURAL,
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      onError: (e) => log.warn({ informer: e.name, restartInMs: e.restartInMs }, `Watch of ${e.name} failed, restarting: ${e.message}`),
    });
  }

  /** Whether the PodGroup CRD is served: without it, gang scheduling is off and the label means nothing. */
  static async served(kc: KubeConfig): Promise<boolean> {
    try {
      await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, limit: 1 });
      return true;
    } catch (error) {
      if (describeApiError(error).status === 404) return false;
      throw error;
    }
  }

  /** Starts the informer; resolves once it has LISTed. */
  async start(): Promise<void> {
    await this.#informer.start();
  }

  async stop(): Promise<void> {
    await this.#informer.stop();
  }

  /** Calls `handler` when a group is added or changed. */
  onChange(handler: () => void): void {
    this.#informer.on('add', handler);
    this.#informer.on('update', handler);
  }

  /** The group `namespace/name`, converted, or undefined. */
  get(key: string): PodGroupSpec | undefined {
    const [namespace, name] = key.split('/') as [string, string];
    const obj = this.#informer.get(name, namespace);
    if (obj === undefined) return undefined;
    const timeout = obj.spec?.scheduleTimeoutSeconds;
    return {
      namespace,
      name,
      minMember: Math.max(1, obj.spec?.minMember ?? 1),
      scheduleTimeoutMs: timeout === undefined || timeout <= 0 ? DEFAULT_GANG_TIMEOUT_MS : timeout * 1000,
      createdAt: toMillis(obj.metadata?.creationTimestamp) ?? 0,
    };
  }

  /** Writes the group's status (merge patch of the status subresource) when it changed; never throws. */
  async report(key: string, report: PodGroupReport): Promise<void> {
    const fingerprint = JSON.stringify(report);
    if (this.#written.get(key) === fingerprint) return;
    this.#written.set(key, fingerprint);
    const [namespace, name] = key.split('/') as [string, string];
    const condition = report.reason === undefined
      ? { type: 'Scheduled', status: 'True', reason: 'Scheduled', message: `minMember members bound`, lastTransitionTime: new Date().toISOString() }
      : { type: 'Scheduled', status: 'False', reason: report.reason.code, message: report.reason.message, lastTransitionTime: new Date().toISOString() };
    const status = {
      phase: report.phase,
      ...(report.scheduled === undefined ? {} : { scheduled: report.scheduled }),
      ...(report.phase === 'Scheduling' ? { scheduleStartTime: new Date().toISOString() } : {}),
      conditions: [condition],
    };
    try {
      await this.#api.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      this.#written.delete(key);
      const info = describeApiError(error);
      if (info.status !== 404) this.#log.warn({ podGroup: key, error: info.message }, 'Cannot update the PodGroup status');
    }
  }
}
