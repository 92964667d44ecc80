import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/**
 * Making X.509 certificates with @peculiar/x509: the zipper's self-signed one, and the chains the tests need
 * (a root, intermediates, leaves for servers and clients, expired or for the wrong host).
 */

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

/** A certificate with its key, in PEM and in the forms that sign the next one down. */
export interface Issued {
  /** PEM, one certificate */
  cert: string;
  /** PEM, PKCS #8 */
  key: string;
  /** the subject, as the next certificate's issuer */
  name: string;
  keys: CryptoKeyPair;
}

export interface CertificateSpec {
  subject: string;
  /** who signs it; absent: it signs itself */
  issuer?: Issued;
  /** a CA may sign others; a leaf may not */
  ca?: boolean;
  /** names a leaf is for (DNS names or IP addresses) */
  hosts?: string[];
  /** what a leaf may be used for (absent: no extended key usage, i.e. anything) */
  purpose?: 'server' | 'client';
  /** no basic-constraints or key-usage extension at all, as in old certificates (tests) */
  bare?: boolean;
  /** default: a minute ago, so that a peer's clock a little behind still takes it */
  notBefore?: Date;
  /** default: notBefore + `days` */
  notAfter?: Date;
  days?: number;
}

export const pemOf = (label: string, der: ArrayBuffer | Uint8Array): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der as ArrayBuffer).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

const randomSerial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1');

export async function issueCertificate(spec: CertificateSpec): Promise<Issued> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = spec.notAfter ?? new Date(notBefore.getTime() + (spec.days ?? 13) * DAY);
  const extensions: x509.Extension[] = spec.bare
    ? []
    : spec.ca
      ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)]
      : [new x509.BasicConstraintsExtension(false), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)];
  if (spec.hosts?.length) {
    const names = [...new Set(spec.hosts)].map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
    extensions.push(new x509.SubjectAlternativeNameExtension(names));
  }
  if (spec.purpose) extensions.push(new x509.ExtendedKeyUsageExtension([spec.purpose === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]));
  const common = { serialNumber: randomSerial(), notBefore, notAfter, signingAlgorithm: ALG, extensions };
  const cert = spec.issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject: spec.subject,
        issuer: spec.issuer.name,
        publicKey: keys.publicKey,
        signingKey: spec.issuer.keys.privateKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: spec.subject, keys });
  return {
    cert: cert.toString('pem') + '\n',
    key: pemOf('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    name: spec.subject,
    keys,
  };
}
