import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import { createSecureContext } from 'node:tls';
import { reuseConnections } from './client.js';

const SecureContext = createSecureContext().constructor;

const kubeconfig = (caData: string): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData, skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
};

const agentOf = async (kc: KubeConfig): Promise<unknown> => {
  const context = new RequestContext('https://127.0.0.1:6443/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  assert.equal(context.getHeaders()['Authorization'], 'Bearer t');
  return context.getAgent();
};

test('without reuseConnections every request gets a new agent (a new connection)', async () => {
  const kc = kubeconfig(Buffer.from('ca one').toString('base64'));
  assert.notEqual(await agentOf(kc), await agentOf(kc));
});

test('reuseConnections: requests share one keep-alive agent until the TLS settings change', async () => {
  let clock = 0;
  const kc = reuseConnections(kubeconfig(Buffer.from('ca one').toString('base64')), { now: () => clock });
  const first = (await agentOf(kc)) as { keepAlive?: boolean; options: { ca?: unknown; secureContext?: unknown } };
  assert.equal(await agentOf(kc), first);
  assert.equal(first.keepAlive, true);
  assert.equal(String(first.options.ca), 'ca one');
  // Its connections share one secure context rather than parsing the CA and key each.
  assert.ok(first.options.secureContext instanceof SecureContext);
  // A rotated CA (or client certificate) is a new identity: a new agent.
  kc.clusters[0] = { ...kc.clusters[0]!, caData: Buffer.from('ca two').toString('base64') };
  // Read again after a second.
  assert.equal(await agentOf(kc), first);
  clock = 1_000;
  const second = (await agentOf(kc)) as { options: { ca?: unknown } };
  assert.notEqual(second, first);
  assert.equal(String(second.options.ca), 'ca two');
});
