import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A path inside the Stowage repository (fixtures under dev/ ship with the sources). */
export function repoPath(...parts: string[]): string {
  return join(ROOT, ...parts);
}

/** Where built binaries and local clusters live: never inside the repository. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STOWAGE_CACHE_DIR) return env.STOWAGE_CACHE_DIR;
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'stowage');
}
