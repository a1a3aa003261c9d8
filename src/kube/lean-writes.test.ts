/**
 * The transport of `postJson`: HTTP/2 when the server offers it (more sessions when one is full),
 * HTTP/1.1 when it does not. Loopback TLS servers stand for the two kinds of server; what the
 * apiserver answers to a bind is covered by the scheduler's e2e tests on the real control plane.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate, type CertificateKeyPair } from '../pki/certs.js';
import { reuseConnections } from './client.js';
import { describeApiError } from './errors.js';
import { postJson } from './lean-writes.js';

let ca: CertificateKeyPair;
let serving: CertificateKeyPair;

before(async () => {
  ca = await createCertificateAuthority('lean-writes-test-ca');
  serving = await issueCertificate(ca, { commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server' });
});

const kubeconfig = (port: number): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `https://127.0.0.1:${port}`, caData: Buffer.from(ca.certPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return reuseConnections(kc);
};

const servers: (Http2SecureServer | HttpsServer)[] = [];
/** The servers' side of the kept connections: closing a server waits for them. */
const connections = new Set<{ destroy(): void }>();
after(() => {
  for (const c of connections) c.destroy();
  for (const s of servers) s.close();
});

async function listen(server: Http2SecureServer | HttpsServer): Promise<number> {
  servers.push(server);
  server.on('secureConnection', (socket: { destroy(): void }) => connections.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('over HTTP/2 when the server offers it: requests beyond its stream limit open another session, and every one is answered', async () => {
  const seen: { version: string; auth: string | undefined; body: string }[] = [];
  let sessions = 0;
  // Answers once 150 requests are open at once: a session holding 100 streams cannot carry them all.
  const waiting: (() => void)[] = [];
  const server = createSecureServer({ cert: serving.certPem, key: serving.keyPem, settings: { maxConcurrentStreams: 100 } }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ version: req.httpVersion, auth: req.headers.authorization, body });
      waiting.push(() => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ path: req.url }));
      });
      if (waiting.length === 150) for (const answer of waiting.splice(0)) answer();
    });
  });
  server.on('session', () => sessions++);
  const kc = kubeconfig(await listen(server));
  const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => postJson(kc, `/api/v1/namespaces/ns/pods/p${i}/binding`, { i })));
  assert.equal(answers.length, 150);
  assert.deepEqual(JSON.parse(answers[7] as string), { path: '/api/v1/namespaces/ns/pods/p7/binding' });
  assert.ok(seen.every((s) => s.version === '2.0' && s.auth === 'Bearer t'));
  assert.deepEqual(seen.map((s) => (JSON.parse(s.body) as { i: number }).i).sort((a, b) => a - b), Array.from({ length: 150 }, (_, i) => i));
  assert.equal(sessions, 2);
});

test('over HTTP/2, an error status is an ApiException with its code, as over HTTP/1.1', async () => {
  const server = createSecureServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) => {
    res.writeHead(409, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', reason: 'Conflict', message: 'pod p is already assigned to node n', code: 409 }));
  });
  const kc = kubeconfig(await listen(server));
  const error = await postJson(kc, '/api/v1/namespaces/ns/pods/p/binding', {}).then(() => undefined, (e: unknown) => e);
  assert.equal(describeApiError(error).status, 409);
  assert.match(describeApiError(error).message, /already assigned/);
});

test('a server that speaks only HTTP/1.1 is sent HTTP/1.1, every time, the first request included', async () => {
  const versions: string[] = [];
  const server = createHttpsServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    versions.push(req.httpVersion);
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  const kc = kubeconfig(await listen(server));
  // The first request learns the server has no h2 and goes again over HTTP/1.1: it does not fail.
  assert.equal(await postJson(kc, '/api/v1/namespaces/ns/events', {}), '{"ok":true}');
  assert.equal(await postJson(kc, '/api/v1/namespaces/ns/events', {}), '{"ok":true}');
  assert.equal(await postJson(kc, '/api/v1/namespaces/ns/events', {}), '{"ok":true}');
  assert.deepEqual(versions, ['1.1', '1.1', '1.1'], 'each request reached the server once, over HTTP/1.1');
});
