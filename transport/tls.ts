import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as x509 from '@peculiar/x509';

/** PEM strings for a server, plus the SHA-256 of the DER certificate (what WebTransport pins). */
export interface ServerTls {
  cert: string;
  key: string;
  /** lowercase hex SHA-256 of the DER-encoded leaf certificate */
  certHash: string;
  selfSigned: boolean;
}

/** How a client decides to trust a server: a CA bundle, a pinned certificate hash, or nothing at all. */
export interface ClientTrust {
  ca?: string;
  certHash?: string;
  insecure?: boolean;
}

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const pemBody = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

export const sha256Hex = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** SHA-256 of a PEM certificate's DER bytes, lowercase hex. */
export const certHashOf = (certPem: string): string => sha256Hex(new X509Certificate(certPem).raw);

/** Accepts hex with or without colons, any case, or base64; returns lowercase hex. */
export function normaliseCertHash(hash: string): string {
  const hex = hash.replace(/[:\s]/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return hex.toLowerCase();
  const b = Buffer.from(hash, 'base64');
  if (b.length === 32) return b.toString('hex');
  throw new Error(`certHash must be a SHA-256 digest (64 hex digits or base64), got "${hash}"`);
}

/**
 * A self-signed ECDSA P-256 certificate. Browsers accept `serverCertificateHashes` only for certificates
 * valid at most 14 days, so the default lifetime stays under that and a restart makes a new one.
 */
export async function selfSignedTls(hosts: string[] = ['127.0.0.1', 'localhost'], days = 13): Promise<ServerTls> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const names = [...new Set(hosts)].map((h) =>
    /^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h },
  );
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=geoflux self-signed',
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const der = new Uint8Array(cert.rawData);
  return { cert: cert.toString('pem') + '\n', key: pemBody('PRIVATE KEY', pkcs8), certHash: sha256Hex(der), selfSigned: true };
}

/** TLS from files named in the workflow, else a fresh self-signed certificate for the given hosts. */
export async function serverTls(files: { cert?: string; key?: string } | undefined, hosts: string[]): Promise<ServerTls> {
  if (files?.cert && files.key) {
    const [cert, key] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]);
    return { cert, key, certHash: certHashOf(cert), selfSigned: false };
  }
  return selfSignedTls(hosts);
}
