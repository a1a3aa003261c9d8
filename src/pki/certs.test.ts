import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, describeCertificate, issueCertificate } from './certs.js';

test('a CA issues a serving certificate that a TLS client verifies on 127.0.0.1', async () => {
  const ca = await createCertificateAuthority('test-ca');
  const serving = await issueCertificate(ca, { commonName: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = await issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });

  let seenClientSubject = '';
  const server = createServer(
    { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      seenClientSubject = String(socket.getPeerCertificate().subject.CN);
      socket.end('ok');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: ca.certPem, cert: client.certPem, key: client.keyPem }, () => {
        socket.setEncoding('utf8');
        let data = '';
        socket.on('data', (d: string) => (data += d));
        socket.on('end', () => resolve(data));
      });
      socket.on('error', reject);
    });
    assert.equal(reply, 'ok');
    assert.equal(seenClientSubject, 'admin');
  } finally {
    server.close();
  }
});

test('a certificate from another CA is rejected', async () => {
  const ca = await createCertificateAuthority('ca-a');
  const other = await createCertificateAuthority('ca-b');
  const serving = await issueCertificate(other, { commonName: 's', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const server = createServer({ cert: serving.certPem, key: serving.keyPem }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: ca.certPem }, () => resolve(undefined));
        socket.on('error', reject);
      }),
      /certificate/i,
    );
  } finally {
    server.close();
  }
});

test('describeCertificate reads subject, SANs, CA flag and validity', async () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const ca = await createCertificateAuthority('my-ca', { notBefore, validDays: 10 });
  const leaf = await issueCertificate(ca, {
    commonName: 'stowage-webhook.stowage-system.svc',
    organizations: ['stowage'],
    dnsNames: ['stowage-webhook.stowage-system.svc'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
    notBefore,
    validDays: 2,
  });
  const caInfo = describeCertificate(ca.certPem);
  assert.equal(caInfo.isCa, true);
  assert.equal(caInfo.subject, 'CN=my-ca');
  assert.equal(caInfo.notAfter.toISOString(), '2026-01-11T00:00:00.000Z');
  const info = describeCertificate(leaf.certPem);
  assert.equal(info.isCa, false);
  assert.equal(info.issuer, 'CN=my-ca');
  assert.equal(info.subject, 'CN=stowage-webhook.stowage-system.svc, O=stowage');
  assert.deepEqual(info.dnsNames, ['stowage-webhook.stowage-system.svc']);
  assert.deepEqual(info.ipAddresses, ['127.0.0.1']);
  assert.equal(info.notAfter.toISOString(), '2026-01-03T00:00:00.000Z');
});
