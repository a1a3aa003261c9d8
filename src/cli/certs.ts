/**
 * `stowage certs`: a CA and a serving certificate for the webhook, written as PEM files, with the
 * CA bundle printed in the base64 form a MutatingWebhookConfiguration's caBundle takes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { createCertificateAuthority, issueCertificate } from '../pki/certs.js';
import { CliError } from './errors.js';

interface CertsOptions {
  outDir: string;
  service: string;
  namespace: string;
  dns: string[];
  ip: string[];
  validDays: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerCertsCommand(program: Command): void {
  program
    .command('certs')
    .description('Create a CA and a serving certificate for the webhook (ca.crt, tls.crt, tls.key)')
    .option('--out-dir <dir>', 'directory to write the PEM files to', 'certs')
    .option('--service <name>', 'the webhook Service name', 'stowage-webhook')
    .option('-n, --namespace <namespace>', "the webhook Service's namespace", 'stowage-system')
    .option('--dns <name>', 'an extra DNS name (repeatable)', collect, [])
    .option('--ip <address>', 'an IP address SAN, e.g. 127.0.0.1 for a loopback webhook (repeatable)', collect, [])
    .option('--valid-days <days>', 'validity of the serving certificate', '365')
    .action(async (opts: CertsOptions) => {
      const validDays = Number(opts.validDays);
      if (!Number.isInteger(validDays) || validDays < 1) throw new CliError(`Invalid --valid-days "${opts.validDays}": expected a whole number of days >= 1`);
      const host = `${opts.service}.${opts.namespace}.svc`;
      const ca = await createCertificateAuthority(`${opts.service}-ca`, { validDays: Math.max(validDays, 3650) });
      const serving = await issueCertificate(ca, {
        commonName: host,
        dnsNames: [opts.service, `${opts.service}.${opts.namespace}`, host, `${host}.cluster.local`, ...opts.dns],
        ipAddresses: opts.ip,
        usage: 'server',
        validDays,
      });
      mkdirSync(opts.outDir, { recursive: true });
      writeFileSync(join(opts.outDir, 'ca.crt'), ca.certPem);
      writeFileSync(join(opts.outDir, 'tls.crt'), serving.certPem);
      writeFileSync(join(opts.outDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
      process.stderr.write(`wrote ca.crt, tls.crt and tls.key to "${opts.outDir}" for ${host}\n`);
      process.stdout.write(`${Buffer.from(ca.certPem).toString('base64')}\n`);
    });
}
