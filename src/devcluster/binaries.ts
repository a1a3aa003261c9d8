/**
 * Finds the control-plane binaries: from environment variables when the user already has them,
 * else from the cache that `dev/build-binaries.sh` fills from the Go module proxy.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoPath } from './paths.js';

const execFileAsync = promisify(execFile);

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type Component = (typeof COMPONENTS)[number];

export type Binaries = Readonly<Record<Component, string>>;

/**
 * The variables that point at an existing binary. Stowage's own names come first; kwokctl's
 * names are honoured too, so a machine set up for kwokctl works unchanged.
 */
export const BINARY_ENV: Readonly<Record<Component, readonly string[]>> = {
  etcd: ['STOWAGE_ETCD_BINARY', 'KWOK_ETCD_BINARY'],
  'kube-apiserver': ['STOWAGE_KUBE_APISERVER_BINARY', 'KWOK_KUBE_APISERVER_BINARY'],
  'kube-controller-manager': ['STOWAGE_KUBE_CONTROLLER_MANAGER_BINARY', 'KWOK_KUBE_CONTROLLER_MANAGER_BINARY'],
  'kube-scheduler': ['STOWAGE_KUBE_SCHEDULER_BINARY', 'KWOK_KUBE_SCHEDULER_BINARY'],
  kwok: ['STOWAGE_KWOK_BINARY', 'KWOK_CONTROLLER_BINARY'],
};

function _isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The binaries named by environment variables; the rest are left out. */
export function binariesFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Record<Component, string>> {
  const found: Partial<Record<Component, string>> = {};
  for (const component of COMPONENTS) {
    for (const name of BINARY_ENV[component]) {
      const value = env[name];
      if (value === undefined || value === '') continue;
      if (!_isExecutable(value)) {
        throw new Error(`Cannot use ${name}="${value}": not an executable file`);
      }
      found[component] = value;
      break;
    }
  }
  return found;
}

/**
 * Resolves every binary, building the missing ones with `dev/build-binaries.sh` (a cold build takes
 * tens of minutes; `onBuildStart` lets the caller say so before it starts).
 */
export async function resolveBinaries(options: { env?: NodeJS.ProcessEnv; onBuildStart?: () => void } = {}): Promise<Binaries> {
  const env = options.env ?? process.env;
  const fromEnv = binariesFromEnv(env);
  if (COMPONENTS.every((c) => fromEnv[c] !== undefined)) return fromEnv as Binaries;

  options.onBuildStart?.();
  let binDir: string;
  try {
    const { stdout } = await execFileAsync('bash', [repoPath('dev', 'build-binaries.sh')], {
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    binDir = stdout.trim().split('\n').at(-1) ?? '';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const lastLines = stderr.trim().split('\n').slice(-15).join('\n');
    throw new Error(`Cannot build the control-plane binaries with dev/build-binaries.sh:\n${lastLines}`, { cause: error });
  }
  const resolved = {} as Record<Component, string>;
  for (const component of COMPONENTS) {
    const path = fromEnv[component] ?? join(binDir, component);
    if (!_isExecutable(path)) throw new Error(`Cannot find "${component}" in "${binDir}" after the build`);
    resolved[component] = path;
  }
  return resolved;
}
