/**
 * AdmissionReview v1 (`admission.k8s.io/v1`) in and out: what the API server posts to a
 * mutating webhook and what it expects back. Parsing checks only what the webhook reads, and
 * names the first thing wrong in one line, which the server returns with HTTP 400.
 */
import type { JsonPatchOperation } from '../../policy/placement/patch.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** The fields of `request` the webhook reads. */
export interface AdmissionRequest {
  readonly uid: string;
  /** The object's group/version/kind, e.g. `{ group: '', version: 'v1', kind: 'Pod' }`. */
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly resource: { readonly group: string; readonly version: string; readonly resource: string };
  readonly subResource: string;
  readonly namespace: string;
  /** Empty for a pod created with `generateName` (every ReplicaSet pod). */
  readonly name: string;
  readonly operation: string;
  /** The object as JSON; a record whenever the operation is CREATE. */
  readonly object: Readonly<Record<string, unknown>> | undefined;
  /** Server-side dry run: the webhook must not record anything (`sideEffects: None`). */
  readonly dryRun: boolean;
}

/** A review the webhook cannot answer: the server replies 400 with the message. */
export class AdmissionReviewError extends Error {
  constructor(message: string) {
    super(`Invalid AdmissionReview: ${message}`);
    this.name = 'AdmissionReviewError';
  }
}

function _isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function _string(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function _quoted(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 80);
}

/**
 * Parses a request body into the request the webhook reads.
 *
 * @example
 * parseAdmissionReview(buffer.toString('utf8')).uid;
 * @throws {AdmissionReviewError} when the body is not JSON, not an AdmissionReview v1, or lacks `request.uid`
 */
export function parseAdmissionReview(body: string): AdmissionRequest {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (error) {
    throw new AdmissionReviewError(`body is not JSON: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (!_isRecord(review)) throw new AdmissionReviewError(`expected a JSON object, got ${_quoted(review)}`);
  if (review['apiVersion'] !== ADMISSION_API_VERSION || review['kind'] !== 'AdmissionReview') {
    throw new AdmissionReviewError(
      `expected apiVersion "${ADMISSION_API_VERSION}" and kind "AdmissionReview", got apiVersion ${_quoted(review['apiVersion'])} and kind ${_quoted(review['kind'])}`,
    );
  }
  const request = review['request'];
  if (!_isRecord(request)) throw new AdmissionReviewError('request is missing');
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid === '') throw new AdmissionReviewError('request.uid is missing');
  const operation = _string(request['operation']);
  const object = request['object'];
  if (object !== undefined && object !== null && !_isRecord(object)) throw new AdmissionReviewError(`request.object is not an object: ${_quoted(object)}`);
  if (operation === 'CREATE' && !_isRecord(object)) throw new AdmissionReviewError('request.object is missing for a CREATE');
  const kind = _isRecord(request['kind']) ? request['kind'] : {};
  const resource = _isRecord(request['resource']) ? request['resource'] : {};
  return {
    uid,
    kind: { group: _string(kind['group']), version: _string(kind['version']), kind: _string(kind['kind']) },
    resource: { group: _string(resource['group']), version: _string(resource['version']), resource: _string(resource['resource']) },
    subResource: _string(request['subResource']),
    namespace: _string(request['namespace']),
    name: _string(request['name']),
    operation,
    object: _isRecord(object) ? object : undefined,
    dryRun: request['dryRun'] === true,
  };
}

/** The AdmissionReview the webhook answers with: always allowed, with the patch when there is one. */
export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: true;
    readonly patchType?: 'JSONPatch';
    /** Base64 of the JSON Patch. */
    readonly patch?: string;
  };
}

/**
 * The answer to a review: allowed, with the JSON Patch base64-encoded when it has operations.
 * Placement never denies a pod: the worst it does is leave it unchanged.
 */
export function reviewResponse(uid: string, patch: readonly JsonPatchOperation[] = []): AdmissionReviewResponse {
  if (patch.length === 0) return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, allowed: true } };
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    response: { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') },
  };
}
