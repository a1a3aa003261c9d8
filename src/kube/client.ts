/**
 * Connecting to a cluster the way kubectl does: `--kubeconfig`, else $KUBECONFIG, else
 * ~/.kube/config, else the in-cluster service account; `--context` picks a context.
 */
import { existsSync } from 'node:fs';
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
  return kc;
}

function _firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
