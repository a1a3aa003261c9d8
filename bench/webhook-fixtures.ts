/**
 * The synthetic cluster and the review bodies the webhook benchmarks decide against (see
 * webhook.bench.ts).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { DEFAULT_WEBHOOK_CONFIG } from '../src/config/webhook-config.js';
import { PlacementIndex } from '../src/controllers/webhook/placement-index.js';
import { InformerStore, keepMetadata } from '../src/kube/informer-store.js';

export const NODES = 1_000;
export const DEPLOYMENTS = 1_000;
export const REPLICAS = 20;
export const NS = 'bench';

/**
 * The path the flood benchmark's valid reviews are sent to (`valid=1` beside the apiserver's
 * timeout), so the server can time them apart from the flood's.
 */
export const VALID_PATH = '/mutate?timeout=3s&valid=1';

/** A ReplicaSet pod as the apiserver sends it for admission: no name yet, a realistic spec. */
export function reviewBody(uid: string, deployment: number): string {
  const name = `app-${deployment}`;
  const hash = `h${deployment}`;
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: NS,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object: {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: {
          generateName: `${name}-${hash}-`,
          namespace: NS,
          labels: { app: name, 'pod-template-hash': hash, team: 'payments', tier: 'backend' },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-${hash}`, uid: `rs-${deployment}`, controller: true, blockOwnerDeletion: true }],
        },
        spec: {
          containers: [
            {
              name: 'app',
              image: `registry.example/${name}:1.4.2`,
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: Array.from({ length: 12 }, (_, i) => ({ name: `SETTING_${i}`, value: `value-${i}` })),
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
              readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
              volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
            },
            { name: 'proxy', image: 'registry.example/proxy:2', resources: { requests: { cpu: '50m', memory: '64Mi' } } },
          ],
          volumes: [{ name: 'config', configMap: { name: `${name}-config` } }],
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: name } } } }] } },
          tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
        },
      },
      oldObject: null,
      dryRun: false,
    },
  });
}

/**
 * The synthetic cluster the admission benchmark decides against. Pods go through an informer
 * store that keeps identities only, into the index, as `stowage webhook` feeds them; the store
 * is returned so that it stays alive for the memory figure.
 */
export function syntheticIndex(): { index: PlacementIndex; pods: InformerStore<KubernetesObject> } {
  const index = new PlacementIndex({ capacityTypeRules: DEFAULT_WEBHOOK_CONFIG.capacityTypeRules, capacityLabel: DEFAULT_WEBHOOK_CONFIG.capacityLabel });
  const pods = new InformerStore<KubernetesObject>((event, pod) => (event === 'delete' ? index.deletePod(pod) : index.upsertPod(pod)), keepMetadata);
  for (let n = 0; n < NODES; n++) {
    const type = n % 3 === 0 ? 'spot' : 'on-demand';
    index.upsertNode({
      metadata: { name: `node-${n}`, labels: { 'node.kubernetes.io/capacity': type } },
      status: { allocatable: { cpu: '16', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
  index.upsertNamespace({ metadata: { name: NS, annotations: { 'stowage.io/on-demand-percent': '20' } } });
  let p = 0;
  for (let d = 0; d < DEPLOYMENTS; d++) {
    const name = `app-${d}`;
    index.upsertWorkload('Deployment', { metadata: { name, namespace: NS }, spec: { replicas: REPLICAS + 5 } });
    index.upsertReplicaSet({ metadata: { name: `${name}-h${d}`, namespace: NS, uid: `rs-${d}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: `d-${d}`, controller: true }] } });
    for (let r = 0; r < REPLICAS; r++, p++) {
      const pod = {
        metadata: { name: `${name}-h${d}-${r}`, namespace: NS, uid: `pod-${p}`, resourceVersion: String(1_000 + p), labels: { app: name, 'pod-template-hash': `h${d}` }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-h${d}`, uid: `rs-${d}`, controller: true }] },
        spec: { nodeName: `node-${p % NODES}`, containers: [{ name: 'app', resources: { requests: { cpu: '250m', memory: '256Mi' } } }] },
        status: { phase: 'Running' },
      };
      pods.event('ADDED', pod);
    }
  }
  return { index, pods };
}
