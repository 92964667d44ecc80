import { describe, expect, it } from 'vitest';
import { certHashOf } from './cert-hash.ts';
import { issueCertificate, type Issued } from './certificate.ts';
import { derOf, makePki } from './testdata/pki.ts';
import { selfSignedTls } from './tls.ts';
import { caVerifier, MAX_CHAIN, pinVerifier, serverVerifier, TrustError } from './trust.ts';

/** The one verifier both transports use, rule by rule, on certificates made for this run (testdata/pki.ts). */

const pki = await makePki();
const { root, intermediate, leaf } = pki;
const DAY = 86_400_000;
const derHash = (c: Issued): string => certHashOf(c.cert);

describe('certHash (a pin)', () => {
  it('takes exactly the pinned certificate, however long it is valid for', () => {
    const v = pinVerifier(derHash(leaf));
    expect(v(derOf(leaf), '127.0.0.1')).toBeUndefined();
    // neither the issuer nor the host name matter to a pin
    expect(v(derOf(leaf), 'zipper.example')).toBeUndefined();
  });

  it('refuses any other certificate, naming both hashes', () => {
    const v = pinVerifier('ab'.repeat(32));
    expect(v(derOf(leaf))).toBe(`certificate hash mismatch: expected ${'ab'.repeat(32)}, got ${derHash(leaf)}`);
  });

  it('refuses the pinned certificate outside its validity window', () => {
    expect(pinVerifier(derHash(pki.expiredLeaf))(derOf(pki.expiredLeaf))).toMatch(/^certificate "CN=geoflux expired zipper" expired /);
    const early = pinVerifier(derHash(leaf), () => Date.now() - DAY);
    expect(early(derOf(leaf))).toMatch(/^certificate "CN=geoflux zipper" is not valid before /);
  });

  it('refuses a peer that sent no certificate', () => {
    expect(pinVerifier(derHash(leaf))([])).toBe('the server sent no certificate');
  });
});

describe('ca', () => {
  const v = caVerifier(root.cert, 'server');

  it('follows the chain through the intermediate the server sends along', () => {
    expect(v(derOf(leaf, intermediate), '127.0.0.1')).toBeUndefined();
    expect(v(derOf(leaf, intermediate), 'localhost')).toBeUndefined();
    // the root sent along as well changes nothing
    expect(v(derOf(leaf, intermediate, root), 'localhost')).toBeUndefined();
  });

  it('refuses a chain that lacks its intermediate', () => {
    expect(v(derOf(leaf), '127.0.0.1')).toBe(
      'certificate "CN=geoflux zipper" (issuer "CN=geoflux test intermediate") is not signed by the given CA ("CN=geoflux test root")',
    );
  });

  it('takes an intermediate given as the CA, and any of several CAs', () => {
    expect(caVerifier(intermediate.cert, 'server')(derOf(leaf), '127.0.0.1')).toBeUndefined();
    expect(caVerifier(pki.otherRoot.cert + root.cert, 'server')(derOf(leaf, intermediate), '127.0.0.1')).toBeUndefined();
  });

  it('refuses a chain from another CA', () => {
    expect(caVerifier(pki.otherRoot.cert, 'server')(derOf(leaf, intermediate), '127.0.0.1')).toMatch(
      /^certificate "CN=geoflux test intermediate" \(issuer "CN=geoflux test root"\) is not signed by the given CA \("CN=geoflux other root"\)$/,
    );
  });

  it('refuses an expired leaf, an expired intermediate, a leaf not yet valid', () => {
    expect(v(derOf(pki.expiredLeaf, intermediate), '127.0.0.1')).toMatch(/^certificate "CN=geoflux expired zipper" expired /);
    const { leaf: under, intermediate: old } = pki.underExpiredIntermediate;
    expect(v(derOf(under, old), '127.0.0.1')).toMatch(/^certificate "CN=geoflux expired intermediate" expired /);
    expect(caVerifier(root.cert, 'server', () => Date.now() - DAY)(derOf(leaf, intermediate), '127.0.0.1')).toMatch(/"CN=geoflux zipper" is not valid before /);
  });

  it('refuses a CA given that is no longer valid', () => {
    const { leaf: under, intermediate: old } = pki.underExpiredIntermediate;
    expect(caVerifier(old.cert, 'server')(derOf(under), '127.0.0.1')).toMatch(/^certificate "CN=geoflux expired intermediate" expired /);
  });

  it('refuses a leaf for another host', () => {
    expect(v(derOf(pki.wrongHostLeaf, intermediate), '127.0.0.1')).toBe(
      'certificate "CN=geoflux zipper elsewhere" (DNS:zipper.example) is not for 127.0.0.1',
    );
    expect(v(derOf(leaf, intermediate), 'zipper.example')).toMatch(/\(IP Address:127\.0\.0\.1, DNS:localhost\) is not for zipper\.example$/);
  });

  it('checks the host name of a leaf that is itself the CA given', () => {
    const self = caVerifier(pki.caLeaf.cert, 'server');
    expect(self(derOf(pki.caLeaf), 'localhost')).toBeUndefined();
    expect(self(derOf(pki.caLeaf), 'zipper.example')).toMatch(/^certificate "CN=geoflux zipper CA" .* is not for zipper\.example$/);
  });

  it('takes a self-signed server certificate given as its own CA, for the hosts it names', async () => {
    const tls = await selfSignedTls(['127.0.0.1', 'localhost']);
    const der = derOf({ cert: tls.cert } as Issued);
    expect(caVerifier(tls.cert, 'server')(der, '127.0.0.1')).toBeUndefined();
    expect(caVerifier(tls.cert, 'server')(der, '10.1.2.3')).toMatch(/is not for 10\.1\.2\.3$/);
  });

  it('refuses a certificate signed by one that is not a CA', () => {
    expect(v(derOf(pki.leafSignedLeaf, leaf, intermediate), '127.0.0.1')).toMatch(/^certificate "CN=geoflux signed by a leaf" \(issuer "CN=geoflux zipper"\) is not signed by the given CA/);
    // no key usage to forbid signing: only its basic constraints say it is not a CA
    const { leaf: under, issuer } = pki.bareSignedLeaf;
    expect(v(derOf(under, issuer, intermediate), '127.0.0.1')).toMatch(/^certificate "CN=geoflux signed by a bare leaf" \(issuer "CN=geoflux bare leaf"\) is not signed by the given CA/);
  });

  it(`takes a chain of ${MAX_CHAIN} certificates, root included, and refuses a longer one`, async () => {
    const cas = [root];
    while (cas.length <= MAX_CHAIN - 1) cas.push(await issueCertificate({ subject: `CN=level ${cas.length}`, ca: true, issuer: cas[cas.length - 1] }));
    const under = async (k: number) => {
      const l = await issueCertificate({ subject: `CN=leaf under level ${k}`, issuer: cas[k], hosts: ['localhost'], purpose: 'server' });
      return derOf(l, ...cas.slice(1, k + 1).reverse());
    };
    expect(v(await under(MAX_CHAIN - 2), 'localhost')).toBeUndefined();
    expect(v(await under(MAX_CHAIN - 1), 'localhost')).toBe(`certificate chain of "CN=leaf under level ${MAX_CHAIN - 1}" is longer than ${MAX_CHAIN}`);
  });

  it('takes a certificate only for its purpose', () => {
    expect(v(derOf(pki.client, intermediate), 'localhost')).toBe('certificate "CN=truck-gw-1" is not for server authentication');
    const clients = caVerifier(root.cert, 'client');
    expect(clients(derOf(pki.client, intermediate))).toBeUndefined();
    expect(clients(derOf(leaf, intermediate))).toBe('certificate "CN=geoflux zipper" is not for client authentication');
    expect(clients(derOf(pki.strangerClient))).toMatch(/^certificate "CN=stranger" \(issuer "CN=geoflux other root"\) is not signed by the given CA/);
    expect(clients([])).toBe('the client sent no certificate');
  });

  it('says when the ca option holds no certificate', () => {
    expect(() => caVerifier('not a PEM', 'server')).toThrow(TrustError);
    expect(() => caVerifier('', 'client')).toThrow('the clientCa option holds no PEM certificate');
  });
});

describe('serverVerifier', () => {
  it('prefers a pin to a CA, takes anything when insecure, and leaves the rest to the system', () => {
    const both = serverVerifier({ certHash: derHash(pki.wrongHostLeaf), ca: root.cert })!;
    expect(both(derOf(pki.wrongHostLeaf), '127.0.0.1')).toBeUndefined();
    expect(serverVerifier({ insecure: true })!(derOf(pki.expiredLeaf), 'anywhere')).toBeUndefined();
    expect(serverVerifier({})).toBeUndefined();
  });
});
