/**
 * Starts a worker thread on a sibling module, whether Stowage runs compiled (`dist/…/x.js`) or
 * from its TypeScript sources through tsx (`src/…/x.ts`): loader hooks registered in the main
 * thread do not reach worker threads on Node 20, so from the sources tsx is registered inside the
 * worker first.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * A worker on the module `name` (without extension) next to the caller's module.
 *
 * @example
 * const worker = spawnModuleWorker(import.meta.url, 'parse-worker', { resourceLimits: { maxOldGenerationSizeMb: 96 } });
 */
export function spawnModuleWorker(callerUrl: string, name: string, options: { readonly resourceLimits?: ResourceLimits; readonly workerData?: unknown } = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { ...options, eval: true });
}
