/**
 * Connecting to a cluster the way kubectl does: `--kubeconfig`, else $KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; `--context` picks a context.
 */
import { existsSync } from 'node:fs';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import { KubeConfig, RequestContext } from '@kubernetes/client-node';

export interface ConnectionFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** Loads a kubeconfig, with one-line errors naming the file or context that is wrong. */
export function loadKubeConfig(flags: ConnectionFlags = {}): KubeConfig {
  const kc = new KubeConfig();
  if (flags.kubeconfig !== undefined) {
    if (!existsSync(flags.kubeconfig)) throw new Error(`Cannot read kubeconfig "${flags.kubeconfig}": no such file`);
    try {
      kc.loadFromFile(flags.kubeconfig);
    } catch (error) {
      throw new Error(`Cannot load kubeconfig "${flags.kubeconfig}": ${_firstLine(error)}`);
    }
  } else {
    try {
      kc.loadFromDefault();
    } catch (error) {
      throw new Error(`Cannot load the default kubeconfig: ${_firstLine(error)}`);
    }
  }
  if (flags.context !== undefined) {
    if (kc.getContextObject(flags.context) === null) {
      const known = kc.getContexts().map((c) => `"${c.name}"`).join(', ') || 'none';
      throw new Error(`Cannot use context "${flags.context}": not in the kubeconfig (contexts: ${known})`);
    }
    kc.setCurrentContext(flags.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new Error('Cannot find a cluster to talk to: pass --kubeconfig, set KUBECONFIG, or run inside a cluster');
  }
  return reuseConnections(kc);
}

/** Distinct TLS identities kept at once; a rotated client certificate adds one. */
const _MAX_AGENTS = 4;

/** Options of {@link reuseConnections}. */
export interface ReuseConnectionsOptions {
  /** How long the credentials read for one request serve the next ones (default 1 s). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

/**
 * Makes the API clients of `kc` (`kc.makeApiClient`) keep their connections open and reuse them,
 * as client-go does. client-node 1.4 builds a new `https.Agent` for every request, so each call
 * paid a TCP connect, a TLS handshake and a fresh secure context (parsing the CA and the client
 * key): 60% of `stowage scheduler`'s CPU under `npm run bench:scheduler`. It also reads the CA,
 * certificate and key files again for every request; what it adds to a request (credentials
 * and TLS settings) now serves the requests of the next second. Requests with the same TLS
 * settings share one keep-alive agent; the settings are compared by content, so a certificate
 * rotated on disk is picked up within a second, with a new agent. The agent's connections share
 * one TLS secure context: without it each new connection parses the CA, certificate and key
 * again, and a burst of concurrent binds opening a connection each spent more CPU on that than
 * on scheduling. Returns `kc`.
 */
export function reuseConnections(kc: KubeConfig, options: ReuseConnectionsOptions = {}): KubeConfig {
  const maxAgeMs = options.maxAgeMs ?? 1_000;
  const now = options.now ?? Date.now;
  const agents = new Map<string, HttpsAgent>();
  const apply = kc.applySecurityAuthentication.bind(kc);
  let current: { readonly at: number; readonly headers: Readonly<Record<string, string>>; readonly agent: ReturnType<RequestContext['getAgent']> } | undefined;
  const pooled = (fresh: ReturnType<RequestContext['getAgent']>): ReturnType<RequestContext['getAgent']> => {
    // Only plain TLS agents: a proxy agent is left as client-node made it.
    if (fresh?.constructor !== HttpsAgent) return fresh;
    const key = _agentKey(fresh.options);
    let agent = agents.get(key);
    if (agent === undefined) {
      const secureContext = _secureContext(fresh.options);
      agent = new HttpsAgent({ ...fresh.options, keepAlive: true, ...(secureContext === undefined ? {} : { secureContext }) });
      agents.set(key, agent);
      if (agents.size > _MAX_AGENTS) agents.delete(agents.keys().next().value as string);
    }
    return agent;
  };
  kc.applySecurityAuthentication = async (context) => {
    const at = now();
    if (current === undefined || at - current.at >= maxAgeMs) {
      // What the kubeconfig adds to a request does not depend on the request: read it on a blank one.
      const blank = new RequestContext(context.getUrl(), context.getHttpMethod());
      await apply(blank);
      current = { at, headers: blank.getHeaders(), agent: pooled(blank.getAgent()) };
    }
    for (const [name, value] of Object.entries(current.headers)) context.setHeaderParam(name, value);
    if (current.agent !== undefined) context.setAgent(current.agent);
  };
  return kc;
}

/** What `tls.connect` would build for each connection, built once; none when the settings are refused (each connection then fails as it would have). */
function _secureContext(options: AgentOptions): SecureContext | undefined {
  try {
    return createSecureContext(options);
  } catch {
    return undefined;
  }
}

function _agentKey(o: AgentOptions): string {
  const text = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string' || typeof v === 'boolean') return String(v);
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    if (Array.isArray(v)) return v.map(text).join('\n');
    return JSON.stringify(v);
  };
  return [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername].map(text).join('\u0000');
}

function _firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
