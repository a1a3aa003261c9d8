/**
 * Least privilege, checked on a real apiserver: for every ServiceAccount shipped in deploy/*, the
 * test applies that directory's RBAC, asks the apiserver what the ServiceAccount may do (a
 * SelfSubjectRulesReview sent with its own token, in every namespace that matters), takes away
 * what any ServiceAccount may do (the same review as a ServiceAccount with no bindings), and
 * compares the rest with the table under "Permissions" in the directory's README: a right the
 * table does not list fails the test, and so does a listed right that is not granted (the table
 * must stay true).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, KubeConfig, type KubernetesObject, type V1SelfSubjectRulesReview } from '@kubernetes/client-node';
import { repoPath } from '../../src/devcluster/paths.js';
import { createNamespace, useCluster, type TestCluster } from './support/cluster.js';
import { createAll, shippedRbacObjects, tokenKubeconfig } from './support/service-account.js';

const cluster = useCluster();
const WORK = mkdtempSync(join(tmpdir(), 'stowage-rbac-e2e-'));
/** A namespace of no component: what is granted here is granted in every namespace. */
const ANY_NAMESPACE = 'rbac-elsewhere';

/** One right: `group/resource verb`, where, and on which name (`any` for every object). */
type Right = string;

function right(group: string, resource: string, verb: string, namespace: string, name: string): Right {
  return `${group === '' ? 'core' : group}/${resource} ${verb} in ${namespace} on ${name}`;
}

/** The ServiceAccounts shipped in each deploy/ directory, with the directory's RBAC objects. */
function shippedServiceAccounts(): { component: string; namespace: string; name: string; objects: KubernetesObject[] }[] {
  const components = readdirSync(repoPath('deploy'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return components.flatMap((component) => {
    const objects = shippedRbacObjects(component);
    return objects
      .filter((o) => o.kind === 'ServiceAccount')
      .map((sa) => ({ component, namespace: sa.metadata?.namespace ?? '', name: sa.metadata?.name ?? '', objects }));
  });
}

/**
 * The rights the README of `deploy/<component>` documents for `namespace/name`: the first table
 * after the line that names the ServiceAccount in backticks, columns
 * `API group | resource | verbs | namespace | name | why`.
 */
function documentedRights(component: string, namespace: string, name: string): Set<Right> {
  const text = readFileSync(repoPath('deploy', component, 'README.md'), 'utf8');
  const at = text.indexOf(`\`${namespace}/${name}\``);
  assert.ok(at >= 0, `deploy/${component}/README.md names the ServiceAccount \`${namespace}/${name}\` before its table of rights`);
  const lines = text.slice(at).split('\n');
  const start = lines.findIndex((l) => /^\|\s*API group\s*\|/.test(l));
  assert.ok(start >= 0, `deploy/${component}/README.md has a table of rights after \`${namespace}/${name}\``);
  const header = (lines[start] ?? '').split('|').map((c) => c.trim());
  assert.deepEqual(header.slice(1, 6), ['API group', 'resource', 'verbs', 'namespace', 'name'], 'the table\'s columns');
  const rights = new Set<Right>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [group = '', resource = '', verbs = '', where = '', object = ''] = line.split('|').slice(1).map((c) => c.trim());
    for (const verb of verbs.split(',').map((v) => v.trim())) rights.add(right(group === 'core' ? '' : group, resource, verb, where, object));
  }
  return rights;
}

/** Every (group, resource, verb, name) a rules review grants, as rights in `namespace`. */
function expand(review: V1SelfSubjectRulesReview, namespace: string): Set<Right> {
  const rights = new Set<Right>();
  for (const rule of review.status?.resourceRules ?? []) {
    for (const group of rule.apiGroups ?? ['']) {
      for (const resource of rule.resources ?? []) {
        for (const verb of rule.verbs) {
          for (const object of rule.resourceNames?.length ? rule.resourceNames : ['any']) rights.add(right(group, resource, verb, namespace, object));
        }
      }
    }
  }
  for (const rule of review.status?.nonResourceRules ?? []) {
    for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) rights.add(`nonResourceURL ${url} ${verb}`);
  }
  return rights;
}

/** What a kubeconfig's user may do in each namespace, by SelfSubjectRulesReview. */
async function rulesOf(kubeconfig: string, namespaces: readonly string[]): Promise<Map<string, Set<Right>>> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const out = new Map<string, Set<Right>>();
  for (const namespace of namespaces) {
    const review = await authz.createSelfSubjectRulesReview({ body: { spec: { namespace } } });
    assert.equal(review.status?.incomplete, false, `the rules review in "${namespace}" is complete: ${review.status?.evaluationError ?? ''}`);
    out.set(namespace, expand(review, namespace));
  }
  return out;
}

/**
 * The rights beyond the baseline, with cluster-wide ones (seen in a namespace of no component)
 * written as `all` and the rest under their namespace.
 */
function effectiveRights(rules: Map<string, Set<Right>>, baseline: Map<string, Set<Right>>): Set<Right> {
  const rights = new Set<Right>();
  const clusterWide = new Set<string>();
  for (const r of rules.get(ANY_NAMESPACE) ?? []) {
    if (baseline.get(ANY_NAMESPACE)?.has(r)) continue;
    const general = r.replace(` in ${ANY_NAMESPACE} `, ' in all ');
    clusterWide.add(general);
    rights.add(general);
  }
  for (const [namespace, granted] of rules) {
    if (namespace === ANY_NAMESPACE) continue;
    for (const r of granted) {
      if (baseline.get(namespace)?.has(r) || clusterWide.has(r.replace(` in ${namespace} `, ' in all '))) continue;
      rights.add(r);
    }
  }
  return rights;
}

describe('least privilege of every shipped ServiceAccount', () => {
  const accounts = shippedServiceAccounts();
  const figures: string[] = [];
  let baseline: Map<string, Set<Right>> | undefined;

  after(() => {
    rmSync(WORK, { recursive: true, force: true });
    process.stdout.write(`# rights per ServiceAccount (beyond what every ServiceAccount has):\n${figures.map((f) => `#   ${f}\n`).join('')}`);
  });

  /** The namespaces to review for one component: one of no component, and every one it binds in. */
  function namespacesOf(account: (typeof accounts)[number]): string[] {
    const bound = account.objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'Role').map((o) => o.metadata?.namespace ?? '');
    return [ANY_NAMESPACE, ...new Set([account.namespace, ...bound])];
  }

  async function baselineRules(c: TestCluster): Promise<Map<string, Set<Right>>> {
    if (baseline) return baseline;
    await createNamespace(c.core, ANY_NAMESPACE);
    await createAll(c, [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: ANY_NAMESPACE } }]);
    const kubeconfig = await tokenKubeconfig(c, ANY_NAMESPACE, 'nobody', WORK);
    const namespaces = [...new Set(accounts.flatMap(namespacesOf))];
    for (const account of accounts) await createAll(c, account.objects.filter((o) => o.kind === 'Namespace'));
    baseline = await rulesOf(kubeconfig, namespaces);
    return baseline;
  }

  test('deploy/ ships the webhook\'s and the descheduler\'s ServiceAccounts', () => {
    const names = accounts.map((a) => `${a.namespace}/${a.name}`);
    for (const expected of ['stowage-system/stowage-webhook', 'stowage-system/stowage-descheduler']) assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
  });

  for (const account of accounts) {
    test(`${account.namespace}/${account.name} (deploy/${account.component}) may do what its README lists, and nothing more`, { timeout: 2 * 60_000 }, async () => {
      const c = cluster();
      const base = await baselineRules(c);
      await createAll(c, account.objects);
      const kubeconfig = await tokenKubeconfig(c, account.namespace, account.name, WORK);
      const granted = effectiveRights(await rulesOf(kubeconfig, namespacesOf(account)), base);
      const documented = documentedRights(account.component, account.namespace, account.name);

      const beyond = [...granted].filter((r) => !documented.has(r)).sort();
      const missing = [...documented].filter((r) => !granted.has(r)).sort();
      assert.deepEqual(beyond, [], `rights beyond deploy/${account.component}/README.md's table:\n  ${beyond.join('\n  ')}`);
      assert.deepEqual(missing, [], `rights the table lists that rbac.yaml does not grant:\n  ${missing.join('\n  ')}`);
      assert.ok(![...granted].some((r) => /\*/.test(r)), 'no wildcard');
      figures.push(`${account.namespace}/${account.name}: ${granted.size} rights, ${[...granted].filter((r) => /\/\S+ (create|update|patch|delete|deletecollection) /.test(r)).length} of them writes`);
    });
  }
});
