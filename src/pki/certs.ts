/**
 * A small certificate authority for loopback use: the local control plane's serving and client
 * certificates, and the webhook's serving certificate (`stowage certs`). ECDSA P-256 keys, which
 * Go's crypto/tls, kube-apiserver and Node all accept, and which are fast to generate.
 */
import '@abraham/reflection';
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate and its private key, both PEM. */
export interface CertificateKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA that can issue further certificates. */
export type CertificateAuthority = CertificateKeyPair;

export interface IssueOptions {
  readonly commonName: string;
  /** Subject O= entries; Kubernetes reads them as groups (`system:masters`). */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: 'server' | 'client' | 'server-and-client';
  readonly validDays?: number;
  /** Defaults to now; injectable so tests can check validity windows. */
  readonly notBefore?: Date;
}

async function _generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function _privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

async function _importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

function _serial(): string {
  // Positive 16-byte serial, as RFC 5280 asks (top bit clear).
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function _escapeDnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** Creates a self-signed CA certificate. */
export async function createCertificateAuthority(
  commonName: string,
  options: { validDays?: number; notBefore?: Date } = {},
): Promise<CertificateAuthority> {
  const keys = await _generateKeys();
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: _serial(),
    name: `CN=${_escapeDnValue(commonName)}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validDays ?? 3650) * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await _privateKeyPem(keys.privateKey) };
}

/** Issues a leaf certificate signed by `ca`. */
export async function issueCertificate(ca: CertificateKeyPair, options: IssueOptions): Promise<CertificateKeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await _importPrivateKey(ca.keyPem);
  const keys = await _generateKeys();
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const subject = [
    `CN=${_escapeDnValue(options.commonName)}`,
    ...(options.organizations ?? []).map((o) => `O=${_escapeDnValue(o)}`),
  ].join(', ');
  const altNames: x509.JsonGeneralName[] = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const usages: string[] = [];
  if (options.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (options.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: _serial(),
    subject,
    issuer: caCert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validDays ?? 365) * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(usages, false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames, false)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await _privateKeyPem(keys.privateKey) };
}

/** Reads the subject, SANs and validity of a PEM certificate, for `stowage certs` output and tests. */
export function describeCertificate(certPem: string): {
  subject: string;
  issuer: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
} {
  const cert = new x509.X509Certificate(certPem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.toJSON() ?? [];
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCa: basic?.ca ?? false,
  };
}
