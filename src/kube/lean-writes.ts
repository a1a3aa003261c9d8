/**
 * The scheduler's two writes per pod, a bind and its Scheduled Event, sent as plain JSON: the
 * kubeconfig's credentials and TLS settings (see `reuseConnections`), `JSON.stringify`, one
 * request, and the response read as text. client-node 1.4 walks its type model to serialise each
 * body and again to deserialise each response, and goes through node-fetch: most of the CPU a
 * bind cost once connections were reused. Failures are client-node's ApiException, so
 * `withRetry` and `describeApiError` treat them as any other call's.
 *
 * Over TLS the requests go as streams of one HTTP/2 connection (the apiserver offers h2 by ALPN),
 * as client-go sends kube-scheduler's. Over HTTP/1.1 each request in flight needs a connection of
 * its own: hundreds of concurrent binds opened hundreds of TLS connections, and the handshakes and
 * socket set-up were half the scheduler's CPU in `npm run bench:scheduler --backlog`. A server
 * that does not speak h2 (or a proxy agent) gets HTTP/1.1 as before.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as http2Connect, constants as http2Constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
  const agent = context.getAgent();
  // Only a plain TLS agent's settings say all the connection needs; a proxy agent keeps HTTP/1.1.
  if (url.protocol === 'https:' && agent?.constructor === HttpsAgent) {
    const h2 = _postH2(url, agent, context.getHeaders(), payload);
    if (h2 !== undefined) {
      return h2.catch(async (error: unknown) => {
        // The first request to a server learns whether it speaks h2: when the session just found
        // it does not, this request goes again over HTTP/1.1 instead of failing (a lone Event has
        // no retry). The session hears of it in the same turn as its stream fails: let it say.
        await new Promise((resolve) => setImmediate(resolve));
        if (_h2.speaksOnlyH1(url.origin, agent)) return _postH1(url, context, payload);
        throw error;
      });
    }
  }
  return _postH1(url, context, payload);
}

async function _postH1(url: URL, context: RequestContext, payload: string): Promise<string> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const agent = context.getAgent();
    // Reached for a server without h2 too: its connection is the TLS agent's own.
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
  const error = _apiError(url, response.statusCode ?? 0, response.headers, text);
  if (error !== undefined) throw error;
  return text;
}

/** The ApiException of a status other than 2xx (as client-node's), else undefined. */
function _apiError(url: URL, status: number, responseHeaders: IncomingHttpHeaders, text: string): ApiException<string> | undefined {
  if (status >= 200 && status < 300) return undefined;
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(responseHeaders)) if (typeof value === 'string' && !key.startsWith(':')) headers[key] = value;
  return new ApiException(status, `HTTP-Code: ${status}\nMessage: POST ${url.pathname}\nBody: ${text}`, text, headers);
}

/** Headers HTTP/2 forbids (connection-specific) or sets itself. */
const _H1_ONLY_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** The request as an HTTP/2 stream; undefined when the server speaks only HTTP/1.1. */
function _postH2(url: URL, agent: HttpsAgent, contextHeaders: Record<string, string>, payload: string): Promise<string> | undefined {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(contextHeaders)) {
    const lower = name.toLowerCase();
    if (!_H1_ONLY_HEADERS.has(lower)) headers[lower] = value;
  }
  Object.assign(headers, {
    [http2Constants.HTTP2_HEADER_METHOD]: 'POST',
    [http2Constants.HTTP2_HEADER_PATH]: `${url.pathname}${url.search}`,
    'content-type': 'application/json',
    accept: 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  // A stream that fails before an answer is a dropped connection to the caller: retryable.
  const failure = (error: Error): Error => Object.assign(new Error(`POST ${url.pathname} over HTTP/2 failed: ${error.message}`, { cause: error }), { code: 'ECONNRESET' });
  let stream: ClientHttp2Stream | undefined;
  try {
    stream = _h2.request(url.origin, agent, headers);
  } catch (error) {
    return Promise.reject(failure(error as Error));
  }
  if (stream === undefined) return undefined;
  return _response(stream, url, payload, failure);
}

function _response(stream: ClientHttp2Stream, url: URL, payload: string, failure: (error: Error) => Error): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const fail = (error: Error): void => reject(failure(error));
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      responseHeaders = h;
      status = Number(h[http2Constants.HTTP2_HEADER_STATUS] ?? 0);
    });
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => {
      if (status === 0) {
        fail(new Error('the stream ended without a response'));
        return;
      }
      const error = _apiError(url, status, responseHeaders, text);
      if (error === undefined) resolve(text);
      else reject(error);
    });
    stream.on('error', fail);
    stream.setTimeout(_TIMEOUT_MS, () => {
      stream.close(http2Constants.NGHTTP2_CANCEL);
      reject(Object.assign(new Error(`No answer from ${url.pathname} within ${_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    stream.end(payload);
  });
}

/** Streams a session is taken to allow before the server's SETTINGS say (Node's own assumption). */
const _DEFAULT_MAX_STREAMS = 100;

/** A session and the streams it carries now. */
interface _Session {
  readonly session: ClientHttp2Session;
  active: number;
}

/**
 * HTTP/2 sessions per server and TLS agent (one agent per TLS identity under `reuseConnections`;
 * a rotated certificate gets a new agent, so new sessions). A request takes the first session with
 * a stream to spare under the server's limit (SETTINGS_MAX_CONCURRENT_STREAMS: the apiserver
 * says 100 unless its --http2-max-streams-per-connection says otherwise), and another session is opened when all are full, as client-go does:
 * beyond the limit a session queues requests rather than send them. A session that closes, fails
 * or is told to go away is left for a new one; one whose server did not choose h2 marks that agent
 * HTTP/1.1-only.
 */
class _Http2Sessions {
  readonly #sessions = new WeakMap<HttpsAgent, Map<string, _Session[]>>();
  readonly #h1Only = new WeakMap<HttpsAgent, Set<string>>();

  /**
   * Sends one request's `headers` on a session to `origin` with `agent`'s TLS settings, and counts
   * the stream until it closes; undefined when the server speaks only HTTP/1.1.
   */
  request(origin: string, agent: HttpsAgent, headers: OutgoingHttpHeaders): ClientHttp2Stream | undefined {
    if (this.speaksOnlyH1(origin, agent)) return undefined;
    let byOrigin = this.#sessions.get(agent);
    if (byOrigin === undefined) {
      byOrigin = new Map();
      this.#sessions.set(agent, byOrigin);
    }
    let sessions = byOrigin.get(origin);
    if (sessions === undefined) {
      sessions = [];
      byOrigin.set(origin, sessions);
    }
    const spare = sessions.find((s) => !s.session.closed && !s.session.destroyed && s.active < (s.session.remoteSettings.maxConcurrentStreams ?? _DEFAULT_MAX_STREAMS)) ?? this.#open(origin, agent, sessions);
    const stream = spare.session.request(headers);
    // A session with requests in flight keeps the process up (as an HTTP/1.1 socket in use does); an idle one does not.
    if (spare.active++ === 0) spare.session.ref();
    stream.once('close', () => {
      if (--spare.active === 0) spare.session.unref();
    });
    return stream;
  }

  /** Whether a session to `origin` with `agent` found that the server speaks only HTTP/1.1. */
  speaksOnlyH1(origin: string, agent: HttpsAgent): boolean {
    return this.#h1Only.get(agent)?.has(origin) === true;
  }

  #open(origin: string, agent: HttpsAgent, sessions: _Session[]): _Session {
    const { ca, cert, key, pfx, passphrase, servername, rejectUnauthorized, secureContext } = agent.options;
    const session = http2Connect(origin, {
      ...(secureContext === undefined ? { ca, cert, key, pfx, passphrase } : { secureContext }),
      ...(servername === undefined ? {} : { servername }),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
    });
    const entry: _Session = { session, active: 0 };
    const forget = (): void => {
      const i = sessions.indexOf(entry);
      if (i !== -1) sessions.splice(i, 1);
    };
    const h1Only = (): void => {
      let origins = this.#h1Only.get(agent);
      if (origins === undefined) this.#h1Only.set(agent, (origins = new Set()));
      origins.add(origin);
    };
    // A server without h2 either refuses the protocol list (a TLS alert) or ignores it.
    session.once('connect', (_s, socket) => {
      if ((socket as { alpnProtocol?: string | false }).alpnProtocol !== 'h2') h1Only();
    });
    // Its streams report the failure to their callers (retryable); the next request opens a new session.
    session.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') h1Only();
      forget();
    });
    session.on('goaway', forget);
    session.on('close', forget);
    sessions.push(entry);
    return entry;
  }
}

const _h2 = new _Http2Sessions();
