/**
 * The placement webhook as a real process (`stowage webhook --config F`) with a fresh CA, served on
 * loopback and registered in the test cluster's kube-apiserver, for the e2e files that run the
 * webhook beside the descheduler.
 */
import { after, before } from 'node:test';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdmissionregistrationV1Api, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { urlWebhookConfiguration } from '../../../src/controllers/webhook/registration.js';
import { httpGet } from '../../../src/devcluster/http.js';
import { freePorts } from '../../../src/devcluster/processes.js';
import { shippedNodeOptions } from '../../../src/devcluster/shipped-identity.js';
import { createCertificateAuthority, issueCertificate } from '../../../src/pki/certs.js';
import { createNamespace, type TestCluster } from './cluster.js';
import { ControllerProcess } from './controller-process.js';

/**
 * Starts `stowage webhook --config configPath` (its TLS files written into `work`), waits until it
 * is ready and registers it. Returns the process; kill it (SIGTERM) and await `exited` when done.
 */
export async function startPlacementWebhook(c: TestCluster, configPath: string, work: string): Promise<ControllerProcess> {
  const ca = await createCertificateAuthority('stowage-e2e-webhook-ca');
  const serving = await issueCertificate(ca, { commonName: 'stowage-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const cert = join(work, 'tls.crt');
  const key = join(work, 'tls.key');
  writeFileSync(cert, serving.certPem);
  writeFileSync(key, serving.keyPem, { mode: 0o600 });
  const [port, metricsPort] = (await freePorts(2)) as [number, number];
  const args = ['webhook', '--config', configPath, '--kubeconfig', c.state.kubeconfigPath, '--tls-cert-file', cert, '--tls-private-key-file', key, '--listen', `127.0.0.1:${port}`, '--metrics-listen', `127.0.0.1:${metricsPort}`];
  // Sized as deployed (deploy/webhook/deployment.yaml's NODE_OPTIONS).
  const webhook = new ControllerProcess('the webhook', args, { STOWAGE_LOG_LEVEL: 'info' }, shippedNodeOptions('webhook'));
  await webhook.untilReady('the webhook to be ready', async () => (await httpGet(`http://127.0.0.1:${metricsPort}/readyz`, { timeoutMs: 5_000 })).status === 200, {
    timeoutMs: 120_000,
    intervalMs: 200,
  });
  await c.kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
    body: urlWebhookConfiguration(`https://127.0.0.1:${port}/mutate`, ca.certPem) as unknown as V1MutatingWebhookConfiguration,
  });
  return webhook;
}

/** Stops a webhook started by {@link startPlacementWebhook}. */
export async function stopPlacementWebhook(webhook: ControllerProcess | undefined): Promise<void> {
  if (webhook === undefined || !webhook.running) return;
  await webhook.stop();
}

/**
 * For the `describe` it is called in: before its tests, the namespace `namespace` and the webhook
 * (`startPlacementWebhook`); after them, the webhook stopped, the record the tests filled printed
 * as `# TAG {json}` (for the closing note) and `work` removed. Returns that record.
 */
export function placementWebhookSuite(cluster: () => TestCluster, options: { readonly namespace: string; readonly config: string; readonly work: string; readonly tag: string }): Record<string, unknown> {
  let webhook: ControllerProcess | undefined;
  const observed: Record<string, unknown> = {};
  before(async () => {
    const c = cluster();
    await createNamespace(c.core, options.namespace);
    webhook = await startPlacementWebhook(c, options.config, options.work);
  }, { timeout: 5 * 60_000 });
  after(async () => {
    await stopPlacementWebhook(webhook);
    process.stdout.write(`# ${options.tag} ${JSON.stringify(observed)}\n`);
    rmSync(options.work, { recursive: true, force: true });
  });
  return observed;
}
