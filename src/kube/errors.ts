/**
 * Classifying Kubernetes API errors: which are worth retrying, and a one-line description.
 */
import { ApiException } from '@kubernetes/client-node';

export interface ApiErrorInfo {
  /** HTTP status, or 0 for a network error. */
  readonly status: number;
  readonly reason: string;
  readonly message: string;
  readonly retryable: boolean;
  /** From Retry-After, when the server sent one. */
  readonly retryAfterMs?: number;
}

const RETRYABLE_STATUS = new Set([0, 408, 429, 500, 502, 503, 504]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET']);

/** Reads status, reason and message from an ApiException (or a network error). */
export function describeApiError(error: unknown): ApiErrorInfo {
  if (error instanceof ApiException) {
    const status = error.code;
    let reason = '';
    let message = '';
    const body: unknown = error.body;
    const parsed = typeof body === 'string' ? _tryJson(body) : body;
    if (parsed !== null && typeof parsed === 'object') {
      const status = parsed as { reason?: unknown; message?: unknown };
      reason = typeof status.reason === 'string' ? status.reason : '';
      message = typeof status.message === 'string' ? status.message : '';
    }
    const retryAfter = Number(error.headers?.['retry-after']);
    return {
      status,
      reason,
      message: message || error.message.split('\n')[0] || `HTTP ${status}`,
      retryable: RETRYABLE_STATUS.has(status),
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  }
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
  const network = (typeof code === 'string' && NETWORK_CODES.has(code)) || /fetch failed|socket hang up|network/i.test(message);
  return { status: 0, reason: typeof code === 'string' ? code : network ? 'NetworkError' : 'Error', message, retryable: network };
}

function _tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
