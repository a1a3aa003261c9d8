#!/usr/bin/env node
// Runs every *.test.ts under the given roots (default: src and test/e2e) in one `node --test`
// process, so the run ends with one summary line. End-to-end files each start their own
// local control plane, so files run one at a time when any of them is included.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src', 'test/e2e'];

/** @param {string} dir @returns {string[]} */
function collect(dir) {
  if (!existsSync(dir)) return [];
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? collect(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []))
    .sort();
}

const files = roots.flatMap(collect);
if (files.length === 0) {
  console.error(`No test files found under ${roots.map((r) => `"${r}"`).join(', ')}`);
  process.exit(1);
}
const e2e = files.some((f) => f.includes('e2e'));
const args = ['--import', 'tsx', '--test', `--test-concurrency=${e2e ? 1 : 2}`, ...files];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
