/**
 * Kubernetes Events (core/v1) for the controllers' decisions, deduplicated like client-go's
 * recorder: the same reason and message on the same object bumps `count` and `lastTimestamp` of
 * one Event instead of creating another. Recording never throws: an explanation that cannot be
 * written must not stop the work it explains.
 */
import { randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from '../observability/log.js';
import { describeApiError } from './errors.js';

/** The object an Event is about. */
export interface InvolvedObject {
  readonly kind: string;
  readonly name: string;
  /** Empty for cluster-scoped objects (nodes). */
  readonly namespace?: string;
  readonly uid?: string;
  readonly apiVersion?: string;
}

/** `Normal` for what was done, `Warning` for what was refused or failed. */
export type EventType = 'Normal' | 'Warning';

interface _Recorded {
  readonly namespace: string;
  readonly name: string;
  count: number;
}

/** The namespace an Event about `object` lives in: its own, or `default` for cluster-scoped objects, as kubectl looks for them. */
export function eventNamespace(object: InvolvedObject): string {
  return object.namespace !== undefined && object.namespace !== '' ? object.namespace : 'default';
}

/** The key two Events share when they are the same Event repeated. */
export function eventKey(object: InvolvedObject, type: EventType, reason: string, message: string): string {
  return [object.kind, eventNamespace(object), object.name, object.uid ?? '', type, reason, message].join('\u0000');
}

/** Writes deduplicated Events for one component. */
export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #component: string;
  readonly #log: Logger | undefined;
  readonly #now: () => Date;
  readonly #seen = new Map<string, _Recorded>();
  /** Bounds the memory of a long-running process; the oldest keys go first. */
  readonly #maxKeys: number;
  readonly #instance: string | undefined;

  /** `instance` names the replica that writes (its leader election identity), as `reportingInstance`. */
  constructor(core: CoreV1Api, component: string, options: { readonly log?: Logger; readonly now?: () => Date; readonly maxKeys?: number; readonly instance?: string } = {}) {
    this.#core = core;
    this.#component = component;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    this.#maxKeys = options.maxKeys ?? 4096;
    this.#instance = options.instance;
  }

  /** Records an Event, or counts one more of the same; logs and swallows API errors. */
  async record(object: InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const key = eventKey(object, type, reason, message);
    const now = this.#now();
    const seen = this.#seen.get(key);
    try {
      if (seen !== undefined) {
        seen.count++;
        await this.#core.patchNamespacedEvent(
          { name: seen.name, namespace: seen.namespace, body: { count: seen.count, lastTimestamp: now } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
      }
      const namespace = eventNamespace(object);
      const name = `${object.name}.${randomBytes(8).toString('hex')}`;
      const involvedObject: V1ObjectReference = {
        kind: object.kind,
        name: object.name,
        ...(object.namespace ? { namespace: object.namespace } : {}),
        ...(object.uid ? { uid: object.uid } : {}),
        ...(object.apiVersion ? { apiVersion: object.apiVersion } : {}),
      };
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name, namespace },
          involvedObject,
          type,
          reason,
          // The apiserver refuses messages over 1 KiB.
          message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
          source: { component: this.#component },
          reportingComponent: this.#component,
          ...(this.#instance === undefined ? {} : { reportingInstance: this.#instance }),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.#remember(key, { namespace, name, count: 1 });
    } catch (error) {
      // A deduplicated Event that expired (Events live an hour) is written afresh next time.
      if (seen !== undefined) this.#seen.delete(key);
      this.#log?.warn({ reason, object: `${object.kind}/${object.name}`, error: describeApiError(error).message }, 'Cannot record event');
    }
  }

  #remember(key: string, recorded: _Recorded): void {
    if (this.#seen.size >= this.#maxKeys) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.set(key, recorded);
  }
}
