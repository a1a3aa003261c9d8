/**
 * A Stowage controller as a real process (`node bin/stowage.js …`, sources run through tsx), with
 * its JSON log lines collected for the test to read. It is an owned process (`spawnOwned`): if the
 * test fails before stopping it, `useCluster`'s teardown (or this process's exit) stops it.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readyOrStopped, spawnOwned, stopOwned } from '../../../src/devcluster/processes.js';

const BIN = fileURLToPath(new URL('../../../bin/stowage.js', import.meta.url));

/** One JSON log line, with its time in milliseconds. */
export interface LogLine {
  readonly msg: string;
  readonly at: number;
  readonly [field: string]: unknown;
}

export class ControllerProcess {
  readonly #child: ChildProcess;
  readonly exited: Promise<number | null>;
  #stderr = '';

  readonly name: string;

  /** `nodeOptions`: Node's own options, before the entry (e.g. `shippedNodeOptions('webhook')`, as deployed). */
  constructor(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}, nodeOptions: readonly string[] = []) {
    this.name = name;
    this.#child = spawnOwned(name, process.execPath, [...nodeOptions, BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    this.#child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Everything it wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Its JSON log lines so far (other lines are skipped). */
  logs(): LogLine[] {
    const out: LogLine[] = [];
    for (const line of this.#stderr.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as { msg?: string; time?: string };
        out.push({ ...parsed, msg: parsed.msg ?? '', at: Date.parse(parsed.time ?? '') });
      } catch {
        // A line cut mid-write; the next read has it whole.
      }
    }
    return out;
  }

  /** The log lines whose message matches. */
  find(msg: RegExp): LogLine[] {
    return this.logs().filter((l) => msg.test(l.msg));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.#child.kill(signal);
  }

  /** `signal` (SIGTERM), SIGKILL for it and anything left in its group after `graceMs`; its exit code. */
  stop(graceMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return stopOwned(this.#child, graceMs, signal);
  }

  /**
   * Waits until `check` holds, failing fast if the process dies; a process that does not get
   * ready in time is stopped before the error is thrown.
   */
  untilReady(what: string, check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number }): Promise<void> {
    return readyOrStopped(this.#child, what, check, { ...options, abortIf: () => this.diedEarly() });
  }

  /** A message for `waitFor`'s abortIf when the process died unexpectedly. */
  diedEarly(): string | undefined {
    return this.running ? undefined : `${this.name} exited early: ${this.#stderr.slice(-2000)}`;
  }
}
