/**
 * Starting and stopping the control plane's processes. Each runs detached in its own process
 * group with its output in a log file, so `stowage dev cluster up` can return while the cluster
 * keeps running, and `down` (from another process) can stop the whole group by its pid.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, existsSync } from 'node:fs';
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

/** The live (non-zombie) processes in process group `pgid`, from /proc (Linux); [] elsewhere. */
export function processGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name: state ppid pgrp …
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return members;
}

/**
 * Stops a process group: `first` (SIGTERM), then SIGKILL after `graceMs`. Resolves once the leader is gone.
 * Returns false when it had to be killed.
 */
export async function stopProcess(pid: number, graceMs = 10_000, first: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
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
  signal(first);
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

// --- children this process owns -------------------------------------------------------------

/** What {@link spawnOwned} started and not yet seen exit: the group leader's pid and a name. */
const _owned = new Map<number, string>();

/** Kills every owned process group at once; called on the way out, so synchronous. */
function _killOwnedNow(): void {
  for (const pid of _owned.keys()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

let _exitHooked = false;

function _hookExit(): void {
  if (_exitHooked) return;
  _exitHooked = true;
  process.on('exit', _killOwnedNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      _killOwnedNow();
      // Only ours: the default action (terminate by that signal) must still happen. Another
      // listener means someone else decides how this process ends; the exit hook covers that.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/**
 * Spawns a child this process owns: detached into a process group of its own (so a kill reaches
 * whatever it starts in turn, e.g. a shell's commands) and remembered until it exits. Whatever
 * way this process ends — normally, by an uncaught error, SIGINT/SIGTERM/SIGHUP — the group gets
 * SIGKILL, and {@link stopOwnedProcesses} stops what is left. Tests and benchmarks use it for
 * every helper process, so a failed start or assertion cannot leave one running (and keep the
 * test runner alive behind it).
 */
export function spawnOwned(name: string, binary: string, args: readonly string[], options: Omit<SpawnOptions, 'detached'> = {}): ChildProcess {
  _hookExit();
  const child = spawn(binary, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports ENOENT and the like asynchronously: swallow that echo, say it here in one line.
    child.once('error', () => undefined);
    throw new Error(`Cannot start ${name} from "${binary}"`);
  }
  _owned.set(pid, name);
  child.once('exit', () => _owned.delete(pid));
  return child;
}

/** The owned processes still running, by pid (for tests of the cleanup itself). */
export function ownedProcesses(): ReadonlyMap<number, string> {
  return new Map([..._owned].filter(([pid]) => isAlive(pid)));
}

/**
 * Stops an owned child's process group: `signal` (SIGTERM unless given), SIGKILL after
 * `graceMs`. Resolves with its exit code (null when a signal ended it) once it has exited.
 */
export async function stopOwned(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const pid = child.pid;
  if (pid === undefined) return child.exitCode;
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await stopProcess(pid, graceMs, signal);
  // The leader is gone; whatever it started and left behind in its group goes too.
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is empty.
  }
  // Wait for Node to reap the leader, so its exit code is known.
  await exited;
  return child.exitCode;
}

/** Stops every owned process still running (SIGTERM, SIGKILL after `graceMs`); returns their names. */
export async function stopOwnedProcesses(graceMs = 5_000): Promise<string[]> {
  const left = [...ownedProcesses()];
  await Promise.all(left.map(([pid]) => stopProcess(pid, graceMs)));
  return left.map(([pid, name]) => `${name} (pid ${pid})`);
}

/**
 * Waits for an owned child to be ready, as {@link waitFor} does, and stops it (SIGKILL after
 * 2 s) when it is not — timed out, exited, or `check` threw — before rethrowing: a child that
 * never got ready is never left running.
 */
export async function readyOrStopped(child: ChildProcess, what: string, check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; abortIf?: () => string | undefined }): Promise<void> {
  try {
    await waitFor(what, check, options);
  } catch (error) {
    await stopOwned(child, 2_000);
    throw error;
  }
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
