/**
 * The scheduler's two writes per pod, a bind and its Scheduled Event, sent as plain JSON: the
 * kubeconfig's credentials and keep-alive agent (see `reuseConnections`), `JSON.stringify`, one
 * `https.request`, and the response read as text. client-node 1.4 walks its type model to
 * serialise each body and again to deserialise each response, and goes through node-fetch: most
 * of the CPU a bind cost once connections were reused. Failures are client-node's ApiException,
 * so `withRetry` and `describeApiError` treat them as any other call's.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiException, HttpMethod, RequestContext, type CoreV1Api, type CoreV1ApiCreateNamespacedEventRequest, type CoreV1ApiCreateNamespacedPodBindingRequest, type KubeConfig } from '@kubernetes/client-node';

/** No answer within this long and the request fails (a network error: retried by `withRetry`). */
const _TIMEOUT_MS = 60_000;

/**
 * `core` with `createNamespacedPodBinding` and `createNamespacedEvent` sent as plain JSON (see
 * the module comment); every other method is `core`'s own. The two resolve to the object
 * sent, not the one created: their callers do not read it.
 */
export function withLeanWrites(core: CoreV1Api, kc: KubeConfig): CoreV1Api {
  const lean = Object.create(core) as CoreV1Api;
  lean.createNamespacedPodBinding = async (param: CoreV1ApiCreateNamespacedPodBindingRequest) => {
    await postJson(kc, `/api/v1/namespaces/${encodeURIComponent(param.namespace)}/pods/${encodeURIComponent(param.name)}/binding`, param.body);
    return param.body;
  };
  lean.createNamespacedEvent = async (param: CoreV1ApiCreateNamespacedEventRequest) => {
    await postJson(kc, `/api/v1/namespaces/${encodeURIComponent(param.namespace)}/events`, { apiVersion: 'v1', kind: 'Event', ...param.body });
    return param.body;
  };
  return lean;
}

/** POSTs `body` as JSON to `path` of the kubeconfig's cluster; resolves to the response text on 2xx. */
export async function postJson(kc: KubeConfig, path: string, body: unknown): Promise<string> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('No current cluster in the kubeconfig');
  const url = new URL(`${cluster.server.replace(/\/+$/, '')}${path}`);
  const context = new RequestContext(url.toString(), HttpMethod.POST);
  await kc.applySecurityAuthentication(context);
  const payload = JSON.stringify(body);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const agent = context.getAgent();
    const req = send(url, {
      method: 'POST',
      ...(agent === undefined ? {} : { agent }),
      headers: { ...context.getHeaders(), 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, resolve);
    req.on('error', reject);
    req.setTimeout(_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`No answer from ${url.pathname} within ${_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.end(payload);
  });
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) text += chunk as string;
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return text;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) if (typeof value === 'string') headers[key] = value;
  throw new ApiException(status, `HTTP-Code: ${status}\nMessage: POST ${url.pathname}\nBody: ${text}`, text, headers);
}
