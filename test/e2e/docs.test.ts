/**
 * README's commands, run as written: the code blocks marked `<!-- docs-test: NAME -->` (the
 * newcomer path of the webhook on a local cluster) and the quick start's `npx stowage simulate`,
 * line by line in one bash session from the repository's root, as a reader pastes them. Between
 * blocks the test checks through the API what the text promises: the registration uses a url on
 * 127.0.0.1 with a caBundle, a Deployment created afterwards is split between on-demand and spot
 * (pods seen on nodes of that type), `simulate --from` a snapshot of the cluster starts from
 * today, `down` removes the registration (a later pod is not patched) and the cluster stops; the
 * scheduler's blocks: a pod naming "stowage" is bound with a Scheduled Event from Stowage's
 * scheduler, and stays Pending once it is down. No step may change a file git tracks.
 *
 * Isolation: the session gets its own STOWAGE_CACHE_DIR, so the README's default cluster name
 * does not touch a developer's own `stowage-dev`; the control-plane binaries come from the shared
 * cache through the STOWAGE_*_BINARY variables (nothing is built).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { readClusterState } from '../../src/devcluster/cluster.js';
import { BINARY_ENV, COMPONENTS, resolveBinaries } from '../../src/devcluster/binaries.js';
import { repoPath } from '../../src/devcluster/paths.js';
import { isAlive, spawnOwned, stopOwned, waitFor } from '../../src/devcluster/processes.js';

const README = readFileSync(repoPath('README.md'), 'utf8');
const CACHE = mkdtempSync(join(tmpdir(), 'stowage-docs-e2e-'));
const CAPACITY_LABEL = 'node.kubernetes.io/capacity';

/** The lines of the `sh` block after `<!-- docs-test: name -->`, comments and blank lines left out. */
function markedBlock(name: string): string[] {
  const match = new RegExp(`<!-- docs-test: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  assert.ok(match?.[1] !== undefined, `README has a sh block marked "docs-test: ${name}"`);
  return match[1].split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

/** The lines of the `sh` block under the heading `## title`. */
function blockUnder(title: string): string[] {
  const match = new RegExp(`## ${title}\\n[\\s\\S]*?\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  assert.ok(match?.[1] !== undefined, `README has a sh block under "${title}"`);
  return match[1].split('\n').filter((l) => l.trim() !== '');
}

function gitStatus(): string {
  const result = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: repoPath(), encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** One bash process fed line by line, as a terminal would be: variables carry over between lines. */
class Shell {
  readonly #child: ChildProcessWithoutNullStreams;
  #stdout = '';
  #stderr = '';
  readonly transcript: string[] = [];

  constructor(env: NodeJS.ProcessEnv) {
    // An owned process group: closing the session (or this process ending) stops every command it started.
    this.#child = spawnOwned('the README session', 'bash', ['--noprofile', '--norc'], { cwd: repoPath(), env, stdio: 'pipe' }) as ChildProcessWithoutNullStreams;
    this.#child.stdout.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString()));
    this.#child.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
  }

  /** Runs one line; resolves with its exit code and output once both streams are flushed. */
  async run(line: string, timeoutMs = 5 * 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const mark = `__docs_test_${Math.random().toString(36).slice(2)}__`;
    this.#stdout = '';
    this.#stderr = '';
    this.#child.stdin.write(`${line}\n__rc=$?; printf '\\n${mark} %d\\n' "$__rc"; printf '\\n${mark}\\n' >&2\n`);
    const started = Date.now();
    await waitFor(`"${line}" to finish`, async () => this.#stdout.includes(`${mark} `) && this.#stderr.includes(mark), {
      timeoutMs,
      intervalMs: 100,
      abortIf: () => (this.#child.exitCode === null ? undefined : `bash exited with ${this.#child.exitCode}`),
    });
    const code = Number(new RegExp(`${mark} (\\d+)`).exec(this.#stdout)?.[1]);
    const stdout = this.#stdout.slice(0, this.#stdout.indexOf(`\n${mark}`));
    const stderr = this.#stderr.slice(0, this.#stderr.indexOf(`\n${mark}`));
    this.transcript.push(`$ ${line}   # exit ${code}, ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return { code, stdout, stderr };
  }

  /** Runs every line, failing on the first that exits non-zero. */
  async runAll(lines: readonly string[]): Promise<string> {
    let out = '';
    for (const line of lines) {
      const result = await this.run(line);
      assert.equal(result.code, 0, `"${line}" exited ${result.code}:\n${result.stderr.slice(-3000)}`);
      out += result.stdout;
    }
    return out;
  }

  async close(): Promise<void> {
    this.#child.stdin.end();
    await stopOwned(this.#child, 5_000);
  }
}

function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

/** The capacity type a pod was placed on: the label of the node it runs on. */
async function placedOn(core: CoreV1Api, pods: readonly V1Pod[]): Promise<string[]> {
  const nodes = new Map((await core.listNode()).items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[CAPACITY_LABEL] ?? 'none']));
  return pods.map((p) => nodes.get(p.spec?.nodeName ?? '') ?? 'unbound').sort();
}

describe('README, run as written', () => {
  let shell: Shell;
  let statusBefore: string;
  let kc: KubeConfig | undefined;

  before(async () => {
    statusBefore = gitStatus();
    const binaries = await resolveBinaries();
    const env: NodeJS.ProcessEnv = { ...process.env, STOWAGE_CACHE_DIR: CACHE, STOWAGE_LOG_LEVEL: 'info' };
    delete env['KUBECONFIG'];
    for (const component of COMPONENTS) env[BINARY_ENV[component][0] as string] = binaries[component];
    shell = new Shell(env);
  }, { timeout: 20 * 60_000 });

  after(async () => {
    // Whatever failed, nothing of the session may keep running.
    const dir = join(CACHE, 'clusters', 'stowage-dev');
    const pids = readClusterState(dir)?.processes ?? [];
    if (pids.some((p) => isAlive(p.pid))) await shell.run('npx stowage dev cluster down', 120_000).catch(() => undefined);
    await shell.close();
    process.stdout.write(`# README session:\n${shell.transcript.map((l) => `#   ${l}\n`).join('')}`);
    rmSync(CACHE, { recursive: true, force: true });
  });

  test('the quick start: npx stowage simulate answers with the table of arms', { timeout: 10 * 60_000 }, async () => {
    const lines = blockUnder('Quick start');
    // npm install needs the network and npm test is the runner of this very test: each is named
    // here, so a new line in the quick start fails until it is run or skipped on purpose.
    assert.deepEqual(lines.map((l) => l.replace(/\s+#.*$/, '')), ['npm install', 'npx stowage simulate', 'npm test']);
    const simulate = lines.find((l) => l.startsWith('npx stowage simulate')) as string;
    const result = await shell.run(simulate, 10 * 60_000);
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    for (const arm of ['B0', 'T1', 'T2', 'T3', 'T4', 'NAIVE']) assert.match(result.stdout, new RegExp(`\\b${arm}\\b`), `the table has arm ${arm}`);
  });

  test('the sweep: every combination of the varied values, as a table and sweep.json', { timeout: 10 * 60_000 }, async () => {
    const lines = markedBlock('sweep');
    assert.equal(lines.length, 1);
    const result = await shell.run(lines[0] as string, 10 * 60_000);
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    const rows = result.stdout.split('\n').filter((l) => /^\s*[48]\s+[36]\s+(B0|T1|T3)\s/.test(l));
    assert.equal(rows.length, 2 * 2 * 3, `a row per combination and arm:\n${result.stdout}`);
    const json = JSON.parse(readFileSync(repoPath('reports', 'sweep.json'), 'utf8')) as { kind: string; points: { settings: Record<string, string> }[] };
    assert.equal(json.kind, 'SweepResult');
    assert.deepEqual(json.points.map((p) => Object.values(p.settings).join('/')), ['4/3', '4/6', '8/3', '8/6']);
  });

  test('the webhook on a local cluster: up, a Deployment split by it, down', { timeout: 15 * 60_000 }, async (t) => {
    // 1. The cluster and the webhook, as the README says.
    await shell.runAll(markedBlock('webhook-up'));
    const kubeconfig = (await shell.run('echo "$KUBECONFIG"')).stdout.trim();
    assert.ok(kubeconfig.startsWith(CACHE), `KUBECONFIG is set by the eval line: "${kubeconfig}"`);
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);

    const registration = await admission.readMutatingWebhookConfiguration({ name: 'stowage-placement' });
    const clientConfig = registration.webhooks?.[0]?.clientConfig;
    assert.match(clientConfig?.url ?? '', /^https:\/\/127\.0\.0\.1:\d+\/mutate$/, 'a url clientConfig on loopback');
    assert.equal(clientConfig?.service, undefined);
    assert.match(Buffer.from(clientConfig?.caBundle ?? '', 'base64').toString(), /BEGIN CERTIFICATE/, 'the caBundle is a PEM CA');
    assert.equal(registration.webhooks?.[0]?.failurePolicy, 'Ignore', 'the shipped policies are kept');

    // 2. A Deployment created now is placed: the default floor keeps 1 of 4 on on-demand.
    const ready = async (app: string, replicas: number): Promise<V1Pod[]> => {
      let pods: V1Pod[] = [];
      await waitFor(`${replicas} Ready pods of ${app}`, async () => {
        pods = (await core.listNamespacedPod({ namespace: 'default', labelSelector: `app=${app}` })).items.filter((p) => p.metadata?.deletionTimestamp === undefined);
        return pods.length === replicas && pods.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      }, { timeoutMs: 120_000, intervalMs: 250 });
      return pods;
    };
    if (hasKubectl()) {
      const out = await shell.runAll(markedBlock('webhook-try'));
      const pods = await ready('web', 4);
      assert.deepEqual(await placedOn(core, pods), ['on-demand', 'spot', 'spot', 'spot'], 'kubectl\'s Deployment: the floor on on-demand, the rest on spot');
      assert.deepEqual(pods.map((p) => p.metadata?.annotations?.['stowage.io/capacity-type']).sort(), ['on-demand', 'spot', 'spot', 'spot']);
      assert.match(out, /PLACED/, 'kubectl prints the placement column');
      t.diagnostic(`kubectl's output:\n${out}`);
    } else {
      t.diagnostic('kubectl is not on PATH: the webhook-try block is not run (the API check below stands in for it)');
    }
    const template = { metadata: { labels: { app: 'probe' } }, spec: { containers: [{ name: 'probe', image: 'registry.example/probe:1', resources: { requests: { cpu: '100m' } } }] } };
    await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'probe' }, spec: { replicas: 3, selector: { matchLabels: { app: 'probe' } }, template } } });
    const placed = await ready('probe', 3);
    assert.deepEqual(await placedOn(core, placed), ['on-demand', 'spot', 'spot'], 'a Deployment created through the API: 1 on-demand, 2 spot');
    for (const pod of placed) {
      const terms = pod.spec?.affinity?.nodeAffinity;
      assert.ok(terms?.requiredDuringSchedulingIgnoredDuringExecution ?? terms?.preferredDuringSchedulingIgnoredDuringExecution, `pod ${pod.metadata?.name} carries the webhook's node affinity`);
    }

    // 3. The cluster as it runs now, simulated from today: a snapshot, and the table's first row
    // is that cluster (its four nodes), before B0 and the arms.
    const simulated = (await shell.runAll(markedBlock('simulate-from'))).split('\n');
    const row = (arm: string): number => simulated.findIndex((l) => l.startsWith(`${arm} `));
    assert.ok(row('today') >= 0 && row('today') < row('B0') && row('B0') < row('T1'), `rows read today → B0 → each arm:\n${simulated.join('\n')}`);
    assert.ok(simulated.some((l) => /^today {2,}the cluster as it runs now: its 4 nodes \(2 on-demand, 2 spot\)/.test(l)), 'today is the local cluster\'s four nodes');

    // 4. down: the registration goes first, so a pod created after it is admitted unchanged.
    const down = markedBlock('webhook-down');
    await shell.runAll(down.filter((l) => l.includes('dev webhook down')));
    await assert.rejects(admission.readMutatingWebhookConfiguration({ name: 'stowage-placement' }), (e: { code?: number }) => e.code === 404, 'the registration is deleted');
    const dir = join(CACHE, 'clusters', 'stowage-dev');
    assert.equal(readClusterState(dir)?.processes.some((p) => p.name === 'stowage-webhook'), false, 'the webhook is no longer part of the cluster');
    await apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'after' }, spec: { replicas: 1, selector: { matchLabels: { app: 'after' } }, template: { ...template, metadata: { labels: { app: 'after' } } } } } });
    const unplaced = await ready('after', 1);
    assert.equal(unplaced[0]?.metadata?.annotations?.['stowage.io/capacity-type'], undefined, 'a pod created after down is not patched');

    const pids = readClusterState(dir)?.processes ?? [];
    await shell.runAll(down.filter((l) => !l.includes('dev webhook down')));
    assert.deepEqual(pids.filter((p) => isAlive(p.pid)).map((p) => p.name), [], 'every process of the cluster is stopped');
  });

  test('the scheduler on a local cluster: up, a pod naming it is scheduled by it, down', { timeout: 10 * 60_000 }, async (t) => {
    await shell.runAll(markedBlock('scheduler-up'));
    const kubeconfig = (await shell.run('echo "$KUBECONFIG"')).stdout.trim();
    const skc = new KubeConfig();
    skc.loadFromFile(kubeconfig);
    const core = skc.makeApiClient(CoreV1Api);
    const dir = join(CACHE, 'clusters', 'stowage-dev');
    const scheduler = readClusterState(dir)?.processes.find((p) => p.name === 'stowage-scheduler');
    assert.ok(scheduler !== undefined && isAlive(scheduler.pid), 'the scheduler runs as part of the cluster');

    /** The pod bound to a node and the reporter of its Scheduled Event. */
    const scheduledBy = async (name: string): Promise<{ node: string; reporter: string }> => {
      let found = { node: '', reporter: '' };
      await waitFor(`pod ${name} bound, with a Scheduled Event`, async () => {
        const pod = await core.readNamespacedPod({ name, namespace: 'default' });
        const events = (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name},reason=Scheduled` })).items;
        found = { node: pod.spec?.nodeName ?? '', reporter: events[0]?.reportingComponent ?? events[0]?.source?.component ?? '' };
        return found.node !== '' && found.reporter !== '';
      }, { timeoutMs: 120_000, intervalMs: 250 });
      return found;
    };
    if (hasKubectl()) {
      const out = await shell.runAll(markedBlock('scheduler-try'));
      assert.match(out, /^stowage\s+Successfully assigned default\/demo to \S+/m, `kubectl shows the Scheduled Event from "stowage":\n${out}`);
      assert.equal((await scheduledBy('demo')).reporter, 'stowage');
    } else {
      t.diagnostic('kubectl is not on PATH: the scheduler-try block is not run (the API check below stands in for it)');
    }
    const pod = (name: string) => ({ metadata: { name }, spec: { schedulerName: 'stowage', containers: [{ name: 'c', image: 'registry.example/probe:1', resources: { requests: { cpu: '100m' } } }] } });
    await core.createNamespacedPod({ namespace: 'default', body: pod('probe') });
    const probe = await scheduledBy('probe');
    assert.equal(probe.reporter, 'stowage', 'bound by Stowage\'s scheduler, not kube-scheduler');

    // down: the scheduler stops, so a pod naming it is no longer scheduled (kube-scheduler leaves it alone).
    const down = markedBlock('scheduler-down');
    await shell.runAll(down.filter((l) => l.includes('dev scheduler down')));
    assert.equal(isAlive(scheduler.pid), false, 'the scheduler process is gone');
    await core.createNamespacedPod({ namespace: 'default', body: pod('after') });
    await new Promise((r) => setTimeout(r, 5_000));
    const after = await core.readNamespacedPod({ name: 'after', namespace: 'default' });
    assert.equal(after.spec?.nodeName, undefined, 'a pod naming "stowage" stays Pending once its scheduler is down');

    const pids = readClusterState(dir)?.processes ?? [];
    await shell.runAll(down.filter((l) => !l.includes('dev scheduler down')));
    assert.deepEqual(pids.filter((p) => isAlive(p.pid)).map((p) => p.name), [], 'every process of the cluster is stopped');
  });

  test('no step in README.md or deploy/*/README.md edits a file in place', () => {
    const tracked = new Set(spawnSync('git', ['ls-files'], { cwd: repoPath(), encoding: 'utf8' }).stdout.split('\n'));
    const docs = ['README.md', ...readdirSync(repoPath('deploy')).map((d) => join('deploy', d, 'README.md')).filter((f) => existsSync(repoPath(f)))];
    const found: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(repoPath(doc), 'utf8');
      // Anywhere, prose included: the commands that rewrite a file where it is.
      for (const m of text.matchAll(/\b(sed\s+(?:-[a-zA-Z]*i\b|--in-place)|perl\s+-[a-zA-Z]*i\b|kustomize\s+edit\b)[^\n`]*/g)) found.push(`${doc}: ${m[0]}`);
      // In shell blocks: a redirection into a file git tracks (relative to the root or to the README's folder).
      for (const block of text.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
        for (const m of (block[1] ?? '').matchAll(/(?:^|[^0-9&>])>>?\s*([^\s|;&)]+)/gm)) {
          const target = m[1] ?? '';
          if (tracked.has(target) || tracked.has(join(dirname(doc), target))) found.push(`${doc}: redirects into "${target}"`);
        }
      }
    }
    assert.deepEqual(found, [], 'no documented step changes a tracked file');
  });

  test('no step changed a file git tracks or left one behind', () => {
    assert.equal(gitStatus(), statusBefore);
  });
});
