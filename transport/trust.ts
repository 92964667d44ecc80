import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { normaliseCertHash, sha256Hex } from './cert-hash.ts';
import type { ClientTrust } from './tls.ts';

/**
 * One certificate verifier for both transports, on the client side (the zipper's certificate under `certHash`
 * or `ca`) and on the zipper's side (client certificates under `clientCa`). The rules (docs/failure-detection.md):
 *
 * - certHash: the leaf's SHA-256 is the pinned one and the leaf is within its validity window. Nothing else:
 *   a pin names one certificate, so who signed it and which names it carries do not matter. (Browsers also
 *   want pinned certificates valid for 14 days at most; the zipper's self-signed one is made for 13.)
 * - ca: the chain the peer sent leads by signature from the leaf to one of the given certificates, through
 *   intermediates that are CAs, at most MAX_CHAIN certificates long, each one within its validity window; a
 *   given certificate that is the leaf itself (a self-signed server certificate handed over as its own CA) is
 *   reached at once. The leaf must be for the purpose (its extended key usage, when it has one, allows server
 *   or client authentication) and, for a server, name the host dialled, whether or not the leaf is a CA.
 *
 * Not checked: revocation, name constraints, path-length constraints, key-usage bits.
 */

/** A certificate refused by these rules, or by the system's CAs: retrying will not change the answer. */
export class TrustError extends Error {
  override readonly name = 'TrustError';
}

/** most certificates in a chain, leaf and anchor included */
export const MAX_CHAIN = 8;

export type Purpose = 'server' | 'client';

/** Why the chain (DER, leaf first, as the peer sent it) is refused, or undefined when it is trusted. */
export type Verifier = (chain: readonly Uint8Array[], host?: string) => string | undefined;

const EKU: Record<Purpose, string> = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2' };
const ANY_EKU = '2.5.29.37.0';

const nameOf = (c: X509Certificate) => `"${c.subject.replace(/\n/g, ', ')}"`;

function outsideWindow(c: X509Certificate, now: number): string | undefined {
  if (Date.parse(c.validFrom) > now) return `certificate ${nameOf(c)} is not valid before ${c.validFrom}`;
  if (Date.parse(c.validTo) < now) return `certificate ${nameOf(c)} expired ${c.validTo}`;
  return undefined;
}

const signedBy = (c: X509Certificate, by: X509Certificate) => by.ca && c.checkIssued(by) && c.verify(by.publicKey);

function notFor(leaf: X509Certificate, purpose: Purpose, host: string | undefined): string | undefined {
  const usages = leaf.keyUsage; // Node names the extended key usage OIDs so
  if (usages?.length && !usages.includes(EKU[purpose]) && !usages.includes(ANY_EKU)) return `certificate ${nameOf(leaf)} is not for ${purpose} authentication`;
  if (host === undefined) return undefined;
  const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
  return named ? undefined : `certificate ${nameOf(leaf)} (${leaf.subjectAltName ?? 'no subjectAltName'}) is not for ${host}`;
}

/** From the leaf up through the chain to an anchor; why that fails, or undefined. */
function pathToAnchor(chain: X509Certificate[], anchors: X509Certificate[], now: number): string | undefined {
  let cert = chain[0];
  for (let length = 1; ; length++) {
    const bad = outsideWindow(cert, now);
    if (bad) return bad;
    if (anchors.some((a) => a.raw.equals(cert.raw))) return undefined;
    if (length === MAX_CHAIN) return `certificate chain of ${nameOf(chain[0])} is longer than ${MAX_CHAIN}`;
    const anchor = anchors.find((a) => signedBy(cert, a));
    if (anchor) return outsideWindow(anchor, now);
    const next = chain.find((c) => c !== cert && signedBy(cert, c));
    if (!next) {
      const given = anchors.map(nameOf).join(', ');
      return `certificate ${nameOf(cert)} (issuer "${cert.issuer.replace(/\n/g, ', ')}") is not signed by the given CA${anchors.length > 1 ? 's' : ''} (${given})`;
    }
    cert = next;
  }
}

/** A verifier never throws: a certificate it cannot even read is refused, saying so. */
const safe =
  (v: Verifier): Verifier =>
  (chain, host) => {
    try {
      return v(chain, host);
    } catch (e) {
      return `could not read the certificate: ${(e as Error).message}`;
    }
  };

const pemBlocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** Certificates issued under the CA(s) in `caPem`, for `purpose`. Throws when `caPem` holds no certificate. */
export function caVerifier(caPem: string, purpose: Purpose, now: () => number = Date.now): Verifier {
  const anchors = pemBlocks(caPem).map((p) => new X509Certificate(p));
  if (anchors.length === 0) throw new TrustError(`the ${purpose === 'server' ? 'ca' : 'clientCa'} option holds no PEM certificate`);
  return safe((der, host) => {
    if (der.length === 0) return `the ${purpose} sent no certificate`;
    const chain = der.map((d) => new X509Certificate(d));
    return pathToAnchor(chain, anchors, now()) ?? notFor(chain[0], purpose, purpose === 'server' ? host : undefined);
  });
}

/** Exactly the certificate with this SHA-256, while it is valid. */
export function pinVerifier(certHash: string, now: () => number = Date.now): Verifier {
  const want = normaliseCertHash(certHash);
  return safe((der) => {
    if (der.length === 0) return 'the server sent no certificate';
    const got = sha256Hex(der[0]);
    if (got !== want) return `certificate hash mismatch: expected ${want}, got ${got}`;
    return outsideWindow(new X509Certificate(der[0]), now());
  });
}

/**
 * How a client judges the zipper's certificate under `trust`, most specific first: a pin, a CA, anything
 * (insecure), or undefined for the system's CAs, which the TLS library checks itself.
 */
export function serverVerifier(trust: ClientTrust): Verifier | undefined {
  if (trust.certHash) return pinVerifier(trust.certHash);
  if (trust.ca) return caVerifier(trust.ca, 'server');
  if (trust.insecure) return () => undefined;
  return undefined;
}

/**
 * Throws TrustError for trust options that cannot be (a pin that is no SHA-256 digest, a `ca` without a
 * certificate). No dial mends them, so a client checks before its first: inside the retry loop,
 * `--cert-hash abc` was said only when connectTimeout ran out, 10 to 30 s later.
 */
export function checkClientTrust(trust: ClientTrust): void {
  try {
    serverVerifier(trust);
  } catch (e) {
    throw e instanceof TrustError ? e : new TrustError((e as Error).message);
  }
}

/**
 * The hint that goes with a certificate the system's CAs do not vouch for, naming the SDK options and the CLI
 * flags alike: the same error reaches users of both.
 */
export const SYSTEM_UNTRUSTED =
  "its certificate is not trusted by this system's CAs (a self-signed server needs certHash, ca, or insecure: true; on the command line --cert-hash <sha256>, --ca <file> or --insecure — serve prints the hash)";
