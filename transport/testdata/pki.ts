import { certHashOf } from '../cert-hash.ts';
import { issueCertificate, type Issued } from '../certificate.ts';
import type { ServerTls } from '../tls.ts';

/**
 * The certificates the trust tests need, made fresh for each test run rather than committed: nothing to expire
 * in the repository, no private keys in it, and an expired certificate is simply one made with past dates.
 */

const DAY = 86_400_000;
const LOCAL = ['127.0.0.1', 'localhost'];

export interface Pki {
  root: Issued;
  intermediate: Issued;
  /** for 127.0.0.1 and localhost, signed by the intermediate, 90 days (longer than a browser would pin) */
  leaf: Issued;
  /** expired yesterday */
  expiredLeaf: Issued;
  /** for zipper.example only */
  wrongHostLeaf: Issued;
  /** a self-signed CA that also serves as the server's certificate, for 127.0.0.1 and localhost */
  caLeaf: Issued;
  /** signed by a leaf, which may not sign: one with key usage digitalSignature, one with no extensions at all */
  leafSignedLeaf: Issued;
  bareSignedLeaf: { leaf: Issued; issuer: Issued };
  /** signed by an intermediate that expired */
  underExpiredIntermediate: { leaf: Issued; intermediate: Issued };
  /** a client certificate (extended key usage clientAuth), signed by the intermediate */
  client: Issued;
  /** a client certificate from an unrelated CA */
  strangerClient: Issued;
  /** a root nothing here is signed by */
  otherRoot: Issued;
}

export async function makePki(): Promise<Pki> {
  const root = await issueCertificate({ subject: 'CN=geoflux test root', ca: true, days: 3650 });
  const intermediate = await issueCertificate({ subject: 'CN=geoflux test intermediate', ca: true, issuer: root, days: 3650 });
  const leafOf = (subject: string, extra: Partial<Parameters<typeof issueCertificate>[0]> = {}) =>
    issueCertificate({ subject, issuer: intermediate, hosts: LOCAL, purpose: 'server', days: 90, ...extra });
  const past = new Date(Date.now() - 30 * DAY);
  const leaf = await leafOf('CN=geoflux zipper');
  const expiredIntermediate = await issueCertificate({ subject: 'CN=geoflux expired intermediate', ca: true, issuer: root, notBefore: past, days: 29 });
  const otherRoot = await issueCertificate({ subject: 'CN=geoflux other root', ca: true, days: 3650 });
  return {
    root,
    intermediate,
    leaf,
    expiredLeaf: await leafOf('CN=geoflux expired zipper', { notBefore: past, days: 29 }),
    wrongHostLeaf: await leafOf('CN=geoflux zipper elsewhere', { hosts: ['zipper.example'] }),
    caLeaf: await issueCertificate({ subject: 'CN=geoflux zipper CA', ca: true, hosts: LOCAL, days: 90 }),
    leafSignedLeaf: await issueCertificate({ subject: 'CN=geoflux signed by a leaf', issuer: leaf, hosts: LOCAL, purpose: 'server' }),
    bareSignedLeaf: await (async () => {
      const issuer = await issueCertificate({ subject: 'CN=geoflux bare leaf', issuer: intermediate, bare: true, days: 90 });
      return { issuer, leaf: await issueCertificate({ subject: 'CN=geoflux signed by a bare leaf', issuer, hosts: LOCAL, purpose: 'server' }) };
    })(),
    underExpiredIntermediate: {
      leaf: await issueCertificate({ subject: 'CN=geoflux zipper under an expired CA', issuer: expiredIntermediate, hosts: LOCAL, purpose: 'server', days: 90 }),
      intermediate: expiredIntermediate,
    },
    client: await issueCertificate({ subject: 'CN=truck-gw-1', issuer: intermediate, purpose: 'client', days: 90 }),
    strangerClient: await issueCertificate({ subject: 'CN=stranger', issuer: otherRoot, purpose: 'client', days: 90 }),
    otherRoot,
  };
}

/** DER of each certificate, as a peer would send the chain */
export const derOf = (...certs: Issued[]): Uint8Array[] =>
  certs.map((c) => new Uint8Array(Buffer.from(c.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64')));

/** What a server serves with `leaf`, sending `chain` (its intermediates) along. */
export const serverTlsOf = (leaf: Issued, ...chain: Issued[]): ServerTls => ({
  cert: [leaf, ...chain].map((c) => c.cert).join(''),
  key: leaf.key,
  certHash: certHashOf(leaf.cert),
  selfSigned: false,
});
