/** The webhook's HTTPS server on 127.0.0.1 with a fresh test CA, for unit tests and the fuzzer. */
import { createCertificateAuthority, issueCertificate } from '../../pki/certs.js';
import { startWebhookServer, type WebhookServer, type WebhookServerOptions } from './server.js';

export async function startLoopbackServer(options: Omit<WebhookServerOptions, 'host' | 'port' | 'tls'>): Promise<{ server: WebhookServer; ca: string }> {
  const authority = await createCertificateAuthority('test-ca');
  const serving = await issueCertificate(authority, { commonName: 'webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const server = await startWebhookServer({ host: '127.0.0.1', port: 0, tls: { cert: serving.certPem, key: serving.keyPem }, ...options });
  return { server, ca: authority.certPem };
}
