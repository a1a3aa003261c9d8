/**
 * A Stowage controller as a real process (`node bin/stowage.js …`, sources run through tsx), with
 * its JSON log lines collected for the test to read.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/stowage.js', import.meta.url));

/** One JSON log line, with its time in milliseconds. */
export interface LogLine {
  readonly msg: string;
  readonly at: number;
  readonly [field: string]: unknown;
}

export class ControllerProcess {
  readonly #child: ChildProcessByStdio<null, null, Readable>;
  readonly exited: Promise<number | null>;
  #stderr = '';

  readonly name: string;

  constructor(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.name = name;
    this.#child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
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

  /** A message for `waitFor`'s abortIf when the process died unexpectedly. */
  diedEarly(): string | undefined {
    return this.running ? undefined : `${this.name} exited early: ${this.#stderr.slice(-2000)}`;
  }
}
