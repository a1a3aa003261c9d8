/**
 * Starting and stopping the control plane's processes. Each runs detached in its own process
 * group with its output in a log file, so `stowage dev cluster up` can return while the cluster
 * keeps running, and `down` (from another process) can stop the whole group by its pid.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** What it was started with, so a test can restart it the same way. */
  readonly binary: string;
  readonly args: readonly string[];
  /** Variables set on top of the launcher's environment (Karpenter reads its settings from them). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `binary` detached, writing stdout and stderr to `<logDir>/<name>.log`; `env` adds variables. */
export function startProcess(name: string, binary: string, args: readonly string[], logDir: string, env?: Readonly<Record<string, string>>): RunningProcess {
  const logPath = join(logDir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', fd, fd], ...(env ? { env: { ...process.env, ...env } } : {}) });
    if (child.pid === undefined) throw new Error(`Cannot start ${name} from "${binary}"`);
    child.unref();
    return { name, pid: child.pid, logPath, binary, args: [...args], ...(env ? { env: { ...env } } : {}) };
  } finally {
    closeSync(fd);
  }
}

/** True while a process with this pid exists (and is not a zombie we could reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A detached child of this very process lingers as a zombie until reaped; /proc tells.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Stops a process group: SIGTERM, then SIGKILL after `graceMs`. Resolves once the leader is gone.
 * Returns false when it had to be killed.
 */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<boolean> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  if (!isAlive(pid)) return true;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  signal('SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  if (isAlive(pid)) throw new Error(`Cannot stop process ${pid}: still running after SIGKILL`);
  return false;
}

/** The last lines of a log file, for error messages that say why a component did not start. */
export function tailLog(path: string, lines = 20): string {
  if (!existsSync(path)) return '(no log)';
  const text = readFileSync(path, 'utf8').trimEnd().split('\n');
  return text.slice(-lines).join('\n');
}

/** Finds `count` distinct free TCP ports on 127.0.0.1. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    if (address === null || typeof address === 'string') throw new Error('Cannot read a listening port');
    return address.port;
  });
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * Polls `check` until it returns true, failing after `timeoutMs` with `what` and the last error.
 * `abortIf` is checked each round so a crashed process fails fast instead of at the timeout.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abortIf?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let interval = options.intervalMs ?? 100;
  let lastError = '';
  for (;;) {
    const abort = options.abortIf?.();
    if (abort !== undefined) throw new Error(`${what}: ${abort}`);
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${what}${lastError ? `: ${lastError}` : ''}`);
    }
    await sleep(interval);
    interval = Math.min(interval * 1.5, 1_000);
  }
}
