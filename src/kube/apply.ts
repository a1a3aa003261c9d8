/**
 * Server-side apply of plain objects, in the order given, as `kubectl apply --server-side` does:
 * each object is sent whole under one field manager, so re-applying the same objects changes
 * nothing (the API server keeps the resourceVersion when the result is identical).
 */
import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { withRetry, type RetryOptions } from './retry.js';

/** What applying one object did, from the resourceVersion before and after. */
export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export interface AppliedObject {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly outcome: ApplyOutcome;
  readonly resourceVersion: string;
}

/** What an applied object must name: its type and where it lives. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

function _describe(object: ObjectRef): string {
  return `${object.kind} "${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}"`;
}

function _isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

/** The object's resourceVersion, or undefined when it does not exist. */
export async function readResourceVersion(client: KubernetesObjectApi, object: ObjectRef, retry: RetryOptions = {}): Promise<string | undefined> {
  try {
    const live = await withRetry(`read ${_describe(object)}`, () => client.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: { ...object.metadata } }), retry);
    return live.metadata?.resourceVersion;
  } catch (error) {
    if (_isNotFound((error as Error).cause ?? error)) return undefined;
    throw error;
  }
}

/**
 * Applies `objects` one after another with server-side apply under `fieldManager`, taking over
 * fields another manager set (`force`), and reports what each apply did. 409/429/5xx are retried.
 */
export async function serverSideApply(kc: KubeConfig, objects: readonly ObjectRef[], fieldManager: string, retry: RetryOptions = {}): Promise<AppliedObject[]> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  const results: AppliedObject[] = [];
  for (const object of objects) {
    const before = await readResourceVersion(client, object, retry);
    const applied = await withRetry(
      `apply ${_describe(object)}`,
      () => client.patch(object as KubernetesObject, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
      retry,
    );
    const after = applied.metadata?.resourceVersion ?? '';
    results.push({
      kind: object.kind,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      name: object.metadata.name,
      outcome: before === undefined ? 'created' : before === after ? 'unchanged' : 'configured',
      resourceVersion: after,
    });
  }
  return results;
}

/** Deletes an object; false when it was already gone. */
export async function deleteObject(kc: KubeConfig, object: ObjectRef, retry: RetryOptions = {}): Promise<boolean> {
  const client = KubernetesObjectApi.makeApiClient(kc);
  try {
    await withRetry(`delete ${_describe(object)}`, () => client.delete({ apiVersion: object.apiVersion, kind: object.kind, metadata: { ...object.metadata } }, undefined, undefined, undefined, undefined, 'Background'), retry);
    return true;
  } catch (error) {
    if (_isNotFound((error as Error).cause ?? error)) return false;
    throw error;
  }
}
