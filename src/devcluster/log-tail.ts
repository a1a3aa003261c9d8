/**
 * The lines a component appends to its log file (kube-scheduler's klog lines, the apiserver's
 * audit log), read as the file grows: tests and benchmarks read what a component did from its own
 * log rather than from a client watch.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Reads the whole lines appended to a file since the last call; a line still being written waits for the next. */
export class LogTail {
  readonly #path: string;
  #offset: number;
  #partial = '';

  /** Starts at the file's end (`fromStart` false: only what is written from now on) or at its beginning. */
  constructor(path: string, options: { readonly fromStart?: boolean } = {}) {
    this.#path = path;
    this.#offset = options.fromStart === true ? 0 : _size(path);
  }

  /** The complete lines written since the last call; none while the file does not exist. */
  readLines(): string[] {
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return [];
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.#offset) return [];
      const buffer = Buffer.alloc(size - this.#offset);
      readSync(fd, buffer, 0, buffer.length, this.#offset);
      this.#offset = size;
      const lines = (this.#partial + buffer.toString('utf8')).split('\n');
      this.#partial = lines.pop() ?? '';
      return lines;
    } finally {
      closeSync(fd);
    }
  }
}

function _size(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}
