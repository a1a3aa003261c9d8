import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, ownedProcesses, processGroupMembers, readyOrStopped, spawnOwned, stopOwned, stopOwnedProcesses, waitFor } from './processes.js';

/** A node process that starts one grandchild (in its group), prints `<its pid>`, then idles. */
const PARENT_OF_ONE = "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);";

/** The first line `child` prints on stdout. */
async function firstLine(child: ChildProcess): Promise<string> {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await waitFor('the child to print its first line', async () => text.includes('\n'), { timeoutMs: 30_000, intervalMs: 20 });
  return text.slice(0, text.indexOf('\n'));
}

test('a child that never gets ready is stopped with everything it started, by pid', async () => {
  const child = spawnOwned('never-ready', process.execPath, ['-e', PARENT_OF_ONE], { stdio: ['ignore', 'pipe', 'ignore'] });
  const grandchild = Number(await firstLine(child));
  const pid = child.pid ?? 0;
  assert.ok(isAlive(pid) && isAlive(grandchild));
  assert.deepEqual(processGroupMembers(pid).sort(), [pid, grandchild].sort(), 'both in the group of their own');
  assert.equal(ownedProcesses().get(pid), 'never-ready');
  await assert.rejects(readyOrStopped(child, 'it to be ready', async () => false, { timeoutMs: 300, intervalMs: 50 }), /Timed out after 0s waiting for it to be ready/);
  assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
  await waitFor('the grandchild to go', async () => !isAlive(grandchild), { timeoutMs: 5_000, intervalMs: 20 });
  assert.deepEqual(processGroupMembers(pid), []);
  assert.equal(ownedProcesses().has(pid), false);
});

test('a child that exits while awaited for readiness fails at once with the reason, and nothing is left', async () => {
  const child = spawnOwned('exits', process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
  const started = Date.now();
  await assert.rejects(readyOrStopped(child, 'it to be ready', async () => false, {
    timeoutMs: 60_000,
    intervalMs: 50,
    abortIf: () => (child.exitCode === null ? undefined : `it exited with ${child.exitCode}`),
  }), /it to be ready: it exited with 3/);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(child.exitCode, 3);
});

test('stopOwned escalates to SIGKILL for a child that ignores SIGTERM', async () => {
  const child = spawnOwned('stubborn', process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log(0); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'ignore'] });
  await firstLine(child);
  const code = await stopOwned(child, 300);
  assert.equal(code, null);
  assert.equal(child.signalCode, 'SIGKILL');
  assert.equal(isAlive(child.pid ?? 0), false);
});

test('stopOwnedProcesses stops what a test left running and names it', async () => {
  const child = spawnOwned('left-behind', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const pid = child.pid ?? 0;
  assert.deepEqual(await stopOwnedProcesses(2_000), [`left-behind (pid ${pid})`]);
  assert.equal(isAlive(pid), false);
  assert.deepEqual(await stopOwnedProcesses(), []);
});

test('when the owner ends — by an uncaught error or by SIGTERM — its children and theirs are killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stowage-owned-'));
  try {
    const script = join(dir, 'owner.ts');
    writeFileSync(script, [
      `import { spawnOwned } from ${JSON.stringify(new URL('./processes.ts', import.meta.url).pathname)};`,
      `const child = spawnOwned('webhook-like', process.execPath, ['-e', ${JSON.stringify(PARENT_OF_ONE)}], { stdio: ['ignore', 'pipe', 'ignore'] });`,
      "child.stdout?.once('data', (d) => {",
      "  console.log(`${child.pid} ${String(d).trim()}`);",
      "  if (process.argv[2] === 'throw') throw new Error('a failed assertion');",
      '});',
      'setInterval(() => {}, 1000);',
    ].join('\n'));
    for (const how of ['throw', 'SIGTERM'] as const) {
      const owner = spawn(process.execPath, ['--import', 'tsx', script, how], { stdio: ['ignore', 'pipe', 'ignore'] });
      const ended = new Promise<string>((resolve) => owner.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
      const [child, grandchild] = (await firstLine(owner)).split(' ').map(Number) as [number, number];
      if (how === 'SIGTERM') owner.kill('SIGTERM');
      assert.equal(await ended, how === 'throw' ? 'code 1' : 'SIGTERM', 'the owner ended the way it would have without the hook');
      await waitFor(`the owned child ${child} and its child ${grandchild} to be gone (${how})`, async () => !isAlive(child) && !isAlive(grandchild), { timeoutMs: 5_000, intervalMs: 20 });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
