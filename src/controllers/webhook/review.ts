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
  /**
   * The fields of the object that placement reads (see {@link POD_FIELDS}), copied out of the
   * parsed body: a record whenever the operation is CREATE.
   */
  readonly object: Readonly<Record<string, unknown>> | undefined;
  /** Server-side dry run: the webhook must not record anything (`sideEffects: None`). */
  readonly dryRun: boolean;
}

/** A review the webhook cannot answer: the server replies 400 with the message. */
export class AdmissionReviewError extends Error {
  /** What is wrong, without the "Invalid AdmissionReview: " prefix. */
  readonly detail: string;
  constructor(detail: string) {
    super(`Invalid AdmissionReview: ${detail}`);
    this.name = 'AdmissionReviewError';
    this.detail = detail;
  }
}

function _isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The operations an AdmissionReview v1 carries. */
export const ADMISSION_OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;

/**
 * A short, one-line description of a value for an error message. Never stringifies a container:
 * a hostile body's deep array once overflowed the stack here.
 */
function _quoted(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return oneLine(JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** Collapses control characters and line breaks, and caps the length, so a message is one short line. */
export function oneLine(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** An optional string field: absent is '', anything but a string is an error naming the field. */
function _optionalString(record: Record<string, unknown>, key: string, path: string): string {
  const value = record[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new AdmissionReviewError(`${path}.${key} is not a string: ${_quoted(value)}`);
  return value;
}

/** An optional group/version/kind-like record of strings. */
function _optionalRecord(record: Record<string, unknown>, key: string, path: string): Record<string, unknown> {
  const value = record[key];
  if (value === undefined || value === null) return {};
  if (!_isRecord(value)) throw new AdmissionReviewError(`${path}.${key} is not an object: ${_quoted(value)}`);
  return value;
}

/**
 * Which fields of a pod to keep: `true` keeps the value whole, a record keeps those of its keys, a
 * one-element array keeps each element so, `'present'` keeps only that the field is set (as `{}`).
 */
type _Fields = true | 'present' | { readonly [key: string]: _Fields } | readonly [_Fields];

const _CONTAINER_FIELDS: _Fields = { name: true, resources: { requests: true }, restartPolicy: true };

/**
 * The fields of a pod that the admitter, the pod's requests and constraints (core/from-kube.ts) and
 * the placement patch (policy/placement/patch.ts) read; a field they start reading must be added
 * here. Everything else (images, env, probes, managedFields, a hostile body's junk) is left behind
 * in the parsed body, so the request is small whatever the body held: it is copied from the parse
 * worker to the event loop, and retained while the review is decided.
 */
export const POD_FIELDS: _Fields = {
  apiVersion: true,
  kind: true,
  metadata: { name: true, generateName: true, namespace: true, uid: true, labels: true, annotations: true, ownerReferences: true, creationTimestamp: true, deletionTimestamp: true },
  spec: {
    containers: [_CONTAINER_FIELDS],
    initContainers: [_CONTAINER_FIELDS],
    resources: { requests: true },
    overhead: true,
    nodeName: true,
    nodeSelector: true,
    affinity: true,
    tolerations: true,
    topologySpreadConstraints: true,
    priority: true,
    priorityClassName: true,
    preemptionPolicy: true,
    schedulerName: true,
    volumes: [{ name: true, hostPath: 'present', emptyDir: { medium: true }, persistentVolumeClaim: { claimName: true }, ephemeral: 'present' }],
  },
  status: { phase: true, conditions: true },
};

/**
 * Bounds on the fields kept: far above a real pod (whose annotations Kubernetes caps at 256 KiB
 * in all), so only a body built to be large is refused.
 */
export const POD_FIELD_LIMITS = { maxValues: 20_000, maxStringBytes: 512 * 1024 } as const;

class _FieldBudget {
  values = 0;
  chars = 0;
  readonly path: string[] = ['request', 'object'];

  spend(value: unknown): void {
    this.values += 1;
    if (typeof value === 'string') this.chars += value.length;
    if (this.values > POD_FIELD_LIMITS.maxValues) {
      throw new AdmissionReviewError(`${this.path.join('.')} is too large: the pod fields the webhook reads hold more than ${POD_FIELD_LIMITS.maxValues} values`);
    }
    if (this.chars > POD_FIELD_LIMITS.maxStringBytes) {
      throw new AdmissionReviewError(`${this.path.join('.')} is too large: the pod fields the webhook reads hold more than ${POD_FIELD_LIMITS.maxStringBytes} characters`);
    }
  }
}

/** A copy of `value` with only the `fields` kept; a value not of the expected shape is kept whole. */
function _copyFields(value: unknown, fields: _Fields, budget: _FieldBudget): unknown {
  if (fields === 'present' && _isRecord(value)) {
    budget.spend(value);
    return {};
  }
  if (Array.isArray(fields) && Array.isArray(value)) {
    budget.spend(value);
    const element = fields[0] as _Fields;
    const copy: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      budget.path.push(String(i));
      copy.push(_copyFields(value[i], element, budget));
      budget.path.pop();
    }
    return copy;
  }
  if (typeof fields === 'object' && !Array.isArray(fields) && _isRecord(value)) {
    budget.spend(value);
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) {
      if (!Object.hasOwn(value, key) || value[key] === undefined) continue;
      budget.path.push(key);
      copy[key] = _copyFields(value[key], (fields as Record<string, _Fields>)[key] as _Fields, budget);
      budget.path.pop();
    }
    return copy;
  }
  return _copyWhole(value, budget);
}

function _copyWhole(value: unknown, budget: _FieldBudget): unknown {
  budget.spend(value);
  if (Array.isArray(value)) return value.map((element) => _copyWhole(element, budget));
  if (_isRecord(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      budget.chars += key.length;
      copy[key] = _copyWhole(field, budget);
    }
    return copy;
  }
  return value;
}

/**
 * The fields of `object` placement reads ({@link POD_FIELDS}), copied.
 *
 * @throws {AdmissionReviewError} naming the field when they exceed {@link POD_FIELD_LIMITS}
 */
export function podFields(object: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return _copyFields(object, POD_FIELDS, new _FieldBudget()) as Record<string, unknown>;
}

/**
 * Reads an AdmissionReview v1 from a request body (already checked by the JSON pre-scan, see
 * json-limits.ts) into the request the webhook reads. Every field the webhook reads is checked
 * for its type, and the first one wrong is named.
 *
 * @example
 * parseAdmissionReview(buffer.toString('utf8')).uid;
 * @throws {AdmissionReviewError} when the body is not JSON, not an AdmissionReview v1, or lacks
 *   `request`, `request.uid`, `request.operation`, or `request.object` for a CREATE or UPDATE
 */
export function parseAdmissionReview(body: string): AdmissionRequest {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch (error) {
    throw new AdmissionReviewError(`body is not JSON: ${oneLine((error as Error).message, 120)}`);
  }
  return readAdmissionReview(review);
}

/** {@link parseAdmissionReview} on a value already parsed. */
export function readAdmissionReview(review: unknown): AdmissionRequest {
  if (!_isRecord(review)) throw new AdmissionReviewError(`expected a JSON object, got ${_quoted(review)}`);
  if (review['apiVersion'] !== ADMISSION_API_VERSION || review['kind'] !== 'AdmissionReview') {
    throw new AdmissionReviewError(
      `expected apiVersion "${ADMISSION_API_VERSION}" and kind "AdmissionReview", got apiVersion ${_quoted(review['apiVersion'])} and kind ${_quoted(review['kind'])}`,
    );
  }
  const request = review['request'];
  if (request === undefined || request === null) throw new AdmissionReviewError('request is missing');
  if (!_isRecord(request)) throw new AdmissionReviewError(`request is not an object: ${_quoted(request)}`);
  const uid = request['uid'];
  if (uid === undefined || uid === null || uid === '') throw new AdmissionReviewError('request.uid is missing');
  if (typeof uid !== 'string') throw new AdmissionReviewError(`request.uid is not a string: ${_quoted(uid)}`);
  const operation = request['operation'];
  if (operation === undefined || operation === null || operation === '') throw new AdmissionReviewError('request.operation is missing');
  if (typeof operation !== 'string' || !(ADMISSION_OPERATIONS as readonly string[]).includes(operation)) {
    throw new AdmissionReviewError(`request.operation ${_quoted(operation)} is not one of ${ADMISSION_OPERATIONS.join(', ')}`);
  }
  const object = request['object'];
  if (object !== undefined && object !== null && !_isRecord(object)) throw new AdmissionReviewError(`request.object is not an object: ${_quoted(object)}`);
  // DELETE carries the object in oldObject, CONNECT its options; CREATE and UPDATE always carry it.
  if ((operation === 'CREATE' || operation === 'UPDATE') && !_isRecord(object)) throw new AdmissionReviewError(`request.object is missing for a ${operation}`);
  const kind = _optionalRecord(request, 'kind', 'request');
  const resource = _optionalRecord(request, 'resource', 'request');
  const dryRun = request['dryRun'];
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean') throw new AdmissionReviewError(`request.dryRun is not a boolean: ${_quoted(dryRun)}`);
  return {
    uid,
    kind: { group: _optionalString(kind, 'group', 'request.kind'), version: _optionalString(kind, 'version', 'request.kind'), kind: _optionalString(kind, 'kind', 'request.kind') },
    resource: {
      group: _optionalString(resource, 'group', 'request.resource'),
      version: _optionalString(resource, 'version', 'request.resource'),
      resource: _optionalString(resource, 'resource', 'request.resource'),
    },
    subResource: _optionalString(request, 'subResource', 'request'),
    namespace: _optionalString(request, 'namespace', 'request'),
    name: _optionalString(request, 'name', 'request'),
    operation,
    object: _isRecord(object) ? podFields(object) : undefined,
    dryRun: dryRun === true,
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
