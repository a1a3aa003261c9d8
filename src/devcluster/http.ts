/**
 * A minimal GET for health endpoints and metrics on loopback, over HTTP or HTTPS with a client
 * certificate, used to wait for the control plane's components and Stowage's own servers.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** PEM material for an HTTPS GET that verifies the server and presents a client certificate. */
export interface ClientTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** GETs `url` within 3 s (default) and returns its status and body; rejects on network errors. */
export function httpGet(url: string, options: { tls?: ClientTls; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  const timeout = options.timeoutMs ?? 3_000;
  const tls = options.tls;
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', timeout, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
