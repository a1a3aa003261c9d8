/**
 * The layering of `src/` points one way: core ← policy ← kube/sim/config ← controllers/report ← cli,
 * and no module imports itself back through a chain of others (file or folder). Read from the
 * import lines of every file under `src/` (tests and test helpers included), with the TypeScript
 * pre-processor so type-only, re-export and dynamic imports all count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = dirname(fileURLToPath(import.meta.url));

/**
 * A module may import from its own layer's folder or from a folder of a lower rank, never from the
 * same rank or above. `policy/*` is one layer: its folders may import each other (no cycles).
 * A new top-level folder needs a line here.
 */
const RANK: Readonly<Record<string, number>> = {
  core: 0,
  observability: 0,
  pki: 0,
  runtime: 0,
  policy: 1,
  // Pure like policy (classes, bundles, node-group renderers, doctor), built on it; kube's tenant adapter imports it.
  tenants: 1.5,
  config: 2,
  kube: 2,
  sim: 2,
  // The local control plane launcher applies objects with kube's adapters; controllers' dev launchers use it.
  devcluster: 2.5,
  controllers: 3,
  report: 3,
  cli: 4,
};

function _sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return _sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

let _graph: Map<string, string[]> | undefined;

/** `src/`-relative file → the `src/`-relative files it imports (read once per run). */
function _importGraph(): Map<string, string[]> {
  if (_graph) return _graph;
  const graph = new Map<string, string[]>();
  for (const file of _sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => normalize(join(dirname(from), name)).replace(/\.js$/, '.ts'));
    graph.set(from, targets);
  }
  _graph = graph;
  return graph;
}

function _layerOf(file: string): string {
  return file.split('/')[0] as string;
}

/** Strongly connected components with more than one member, or a member that imports itself (Tarjan). */
function _cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('every top-level folder of src/ has a layer', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const unranked = folders.filter((name) => RANK[name] === undefined);
  assert.deepEqual(unranked, [], `Add each folder to RANK in src/layering.test.ts: ${unranked.join(', ')}`);
});

test('no module imports from its own layer elsewhere or from a layer above it', () => {
  const upward: string[] = [];
  for (const [from, targets] of _importGraph()) {
    const fromLayer = _layerOf(from);
    const fromRank = RANK[fromLayer];
    for (const target of targets) {
      const toLayer = _layerOf(target);
      if (toLayer === fromLayer || fromRank === undefined) continue;
      const toRank = RANK[toLayer];
      if (toRank === undefined || toRank >= fromRank) upward.push(`${from} imports ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no import cycle between files', () => {
  assert.deepEqual(_cycles(_importGraph()), []);
});

test('no import cycle between components (policy/fit, policy/deschedule, controllers/webhook, sim, ...)', () => {
  // A component is a folder two levels down with everything under it: a registry and the plugins in
  // its subfolder import each other by design, two components never should.
  const componentOf = (file: string): string => dirname(file).split('/').slice(0, 2).join('/');
  const components = new Map<string, string[]>();
  for (const [from, targets] of _importGraph()) {
    const edges = components.get(componentOf(from)) ?? [];
    for (const target of targets) if (componentOf(target) !== componentOf(from)) edges.push(componentOf(target));
    components.set(componentOf(from), edges);
  }
  assert.deepEqual(_cycles(components), []);
});

test('the cycle finder finds a cycle of three and a self-import, and nothing in a chain', () => {
  assert.deepEqual(_cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['d']]])), [['a', 'b', 'c'], ['d']]);
  assert.deepEqual(_cycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]])), []);
});
