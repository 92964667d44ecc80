import { readFile } from 'node:fs/promises';
import { certHashOf } from './cert-hash.ts';
import { storedCertificate } from './cert-store.ts';

/** PEM strings for a server, plus the SHA-256 of the DER certificate (what WebTransport pins). */
export interface ServerTls {
  /** PEM: the leaf, then any intermediates */
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

/** A client's own certificate, for a zipper that asks for one (mutual TLS). */
export interface ClientIdentity {
  /** PEM: the client's certificate, then any intermediates */
  cert?: string;
  /** PEM private key of that certificate */
  key?: string;
}

/**
 * A self-signed ECDSA P-256 certificate. Browsers accept `serverCertificateHashes` only for certificates
 * valid at most 14 days, so the default lifetime stays under that.
 */
export async function selfSignedTls(hosts: string[] = ['127.0.0.1', 'localhost'], days = 13): Promise<ServerTls> {
  // the X.509 library (~2.6 MB of heap) only to make one: a serve that finds its stored certificate never loads it
  const { issueCertificate } = await import('./certificate.ts');
  const { cert, key } = await issueCertificate({ subject: 'CN=geoflux self-signed', hosts, purpose: 'server', days });
  return { cert, key, certHash: certHashOf(cert), selfSigned: true };
}

export interface ServerTlsOptions {
  /**
   * Where the self-signed certificate is kept between runs (`zipper-cert.pem`, `zipper-key.pem`), so that
   * clients pinning its hash still reach a restarted zipper. Absent: a new certificate each start.
   */
  stateDir?: string;
  /** a stored certificate with fewer days left than this is replaced (default 2) */
  renewDays?: number;
  /** told when a certificate is made and stored, and why */
  log?: (msg: string) => void;
}

/** TLS from files named in the workflow, else the self-signed certificate for the given hosts (kept in `stateDir`). */
export async function serverTls(files: { cert?: string; key?: string } | undefined, hosts: string[], opts: ServerTlsOptions = {}): Promise<ServerTls> {
  if (files?.cert && files.key) {
    const [cert, key] = await Promise.all([readFile(files.cert, 'utf8'), readFile(files.key, 'utf8')]);
    return { cert, key, certHash: certHashOf(cert), selfSigned: false };
  }
  if (!opts.stateDir) return selfSignedTls(hosts);
  return storedCertificate(opts.stateDir, hosts, opts.renewDays ?? 2, () => selfSignedTls(hosts), opts.log);
}
