/**
 * Connecting to a cluster the way kubectl does: `--kubeconfig`, else $KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; `--context` picks a context.
 */
import { existsSync } from 'node:fs';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

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

/**
 * Makes the API clients of `kc` (`kc.makeApiClient`) keep their connections open and reuse them,
 * as client-go does. client-node 1.4 builds a new `https.Agent` for every request, so each call
 * paid a TCP connect, a TLS handshake and a fresh secure context (parsing the CA and the client
 * key): 60% of `stowage scheduler`'s CPU under `npm run bench:scheduler`. Requests with the same
 * TLS settings share one keep-alive agent; the settings are compared by content on each request,
 * so a client certificate rotated on disk gets a new agent. Returns `kc`.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const agents = new Map<string, HttpsAgent>();
  const apply = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await apply(context);
    const fresh = context.getAgent();
    // Only plain TLS agents: a proxy agent is left as client-node made it.
    if (fresh?.constructor !== HttpsAgent) return;
    const options = fresh.options;
    const key = _agentKey(options);
    let agent = agents.get(key);
    if (agent === undefined) {
      agent = new HttpsAgent({ ...options, keepAlive: true });
      agents.set(key, agent);
      if (agents.size > _MAX_AGENTS) agents.delete(agents.keys().next().value as string);
    }
    context.setAgent(agent);
  };
  return kc;
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
