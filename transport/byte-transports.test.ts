import { afterEach, describe, expect, it } from 'vitest';
import { dialQuicBytes, listenQuicBytes } from './quic-bytes.ts';
import { makePki, serverTlsOf } from './testdata/pki.ts';
import { selfSignedTls, type ClientIdentity, type ClientTrust, type ServerTls } from './tls.ts';
import { TrustError } from './trust.ts';
import type { ByteDuplex } from './types.ts';
import { roundTrip } from '../testing/round-trip.ts';
import { dialWebTransportBytes, listenWebTransportBytes } from './webtransport-bytes.ts';

/** The two network transports, each as a real server on 127.0.0.1 and a client that dials it. */
const tls = await selfSignedTls();
const pki = await makePki();
const echo = (d: ByteDuplex) => void d.readable.pipeTo(d.writable).catch(() => {});

interface ServerOptions {
  tls?: ServerTls;
  clientCa?: string;
}

const kinds = [
  {
    name: 'quic',
    prefix: (port: number) => `could not connect to quic://127.0.0.1:${port}: `,
    listen: (o: ServerOptions = {}) => listenQuicBytes('127.0.0.1', 0, { tls: o.tls ?? tls, clientCa: o.clientCa }, echo),
    dial: (port: number, trust: ClientTrust & ClientIdentity) => dialQuicBytes('127.0.0.1', port, { ...trust, timeout: 3000 }),
  },
  {
    name: 'webtransport (HTTP/2)',
    prefix: (port: number) => `could not open webtransport session https://127.0.0.1:${port}/geoflux: `,
    listen: (o: ServerOptions = {}) => listenWebTransportBytes('127.0.0.1', 0, '/geoflux', { tls: o.tls ?? tls, clientCa: o.clientCa }, echo),
    dial: (port: number, trust: ClientTrust & ClientIdentity) => dialWebTransportBytes(`https://127.0.0.1:${port}/geoflux`, { ...trust, timeout: 3000 }),
  },
];

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => {});
});

/** what a dial is refused with: the error's class and its words after the transport's own prefix */
async function refusal(p: Promise<ByteDuplex>, prefix: string): Promise<{ trust: boolean; why: string }> {
  const e = await p.then(
    (d) => {
      open.push(d);
      throw new Error('the dial was not refused');
    },
    (err: Error) => err,
  );
  expect(e.message.startsWith(prefix), e.message).toBe(true);
  return { trust: e instanceof TrustError, why: e.message.slice(prefix.length) };
}

describe.each(kinds)('$name', ({ listen, dial, prefix }) => {
  it('echoes 1 MiB written in 16 KiB chunks', async () => {
    const s = await listen();
    open.push(s);
    const d = await dial(s.port, { certHash: tls.certHash });
    open.push(d);
    await roundTrip(d, 1024 * 1024);
  });

  it('trusts a pinned hash, a CA, or insecure on request; refuses otherwise, as a TrustError', async () => {
    const s = await listen();
    open.push(s);
    for (const trust of [{ certHash: tls.certHash }, { ca: tls.cert }, { insecure: true }]) {
      const d = await dial(s.port, trust);
      open.push(d);
    }
    expect(await refusal(dial(s.port, { certHash: 'ab'.repeat(32) }), prefix(s.port))).toEqual({
      trust: true,
      why: `certificate hash mismatch: expected ${'ab'.repeat(32)}, got ${tls.certHash}`,
    });
    const system = await refusal(dial(s.port, {}), prefix(s.port));
    expect(system.trust).toBe(true);
    expect(system.why).toMatch(/^its certificate is not trusted by this system's CAs \(a self-signed server needs certHash, ca, or insecure: true; on the command line --cert-hash <sha256>, --ca <file> or --insecure/);
  });

  it('follows a CA chain through the intermediate the server sends along', async () => {
    const s = await listen({ tls: serverTlsOf(pki.leaf, pki.intermediate) });
    open.push(s);
    const d = await dial(s.port, { ca: pki.root.cert });
    open.push(d);
    await roundTrip(d, 4096);
    expect(await refusal(dial(s.port, { ca: pki.otherRoot.cert }), prefix(s.port))).toEqual({
      trust: true,
      why: 'certificate "CN=geoflux test intermediate" (issuer "CN=geoflux test root") is not signed by the given CA ("CN=geoflux other root")',
    });
    // a pin means the same on both transports: this certificate, while valid, however long it is valid for
    const pinned = await dial(s.port, { certHash: serverTlsOf(pki.leaf).certHash });
    open.push(pinned);
  });

  it('refuses a leaf for another host, and an expired one', async () => {
    const elsewhere = await listen({ tls: serverTlsOf(pki.wrongHostLeaf, pki.intermediate) });
    const expired = await listen({ tls: serverTlsOf(pki.expiredLeaf, pki.intermediate) });
    open.push(elsewhere, expired);
    expect(await refusal(dial(elsewhere.port, { ca: pki.root.cert }), prefix(elsewhere.port))).toEqual({
      trust: true,
      why: 'certificate "CN=geoflux zipper elsewhere" (DNS:zipper.example) is not for 127.0.0.1',
    });
    const old = await refusal(dial(expired.port, { certHash: serverTlsOf(pki.expiredLeaf).certHash }), prefix(expired.port));
    expect(old.trust).toBe(true);
    expect(old.why).toMatch(/^certificate "CN=geoflux expired zipper" expired /);
  });

  it('with clientCa, takes a client with a certificate under it and refuses one without, or with another', async () => {
    const s = await listen({ clientCa: pki.root.cert });
    open.push(s);
    const d = await dial(s.port, { certHash: tls.certHash, cert: pki.client.cert + pki.intermediate.cert, key: pki.client.key });
    open.push(d);
    await roundTrip(d, 64 * 1024);
    // TLS 1.3: the server judges the client's certificate after the client's side of the handshake, so the
    // refusal can arrive as the dial's failure or as the first read's
    const refused = async (id: ClientIdentity) => {
      const e = await dial(s.port, { certHash: tls.certHash, ...id }).then(
        async (c) => {
          open.push(c);
          const cause = await roundTrip(c, 1000).then(() => undefined, (err: Error) => err);
          return c.failure?.(cause);
        },
        (err: Error) => err,
      );
      expect(e, String(e)).toBeInstanceOf(TrustError);
      return e!.message;
    };
    // QUIC carries only the TLS alert; WebTransport, whose TLS cannot say why, carries our verifier's words
    expect(await refused({})).toMatch(/: the zipper refused our client certificate: (it requires one \(cert and key options; alert 116 certificate_required\)|the client sent no certificate)$/);
    expect(await refused({ cert: pki.strangerClient.cert, key: pki.strangerClient.key })).toMatch(
      /: the zipper refused our client certificate(: certificate "CN=stranger" \(issuer "CN=geoflux other root"\) is not signed by the given CA| \(alert 42 bad_certificate; its log says why\))/,
    );
    // a server certificate is not a client certificate
    expect(await refused({ cert: pki.leaf.cert + pki.intermediate.cert, key: pki.leaf.key })).toMatch(/the zipper refused our client certificate(: certificate "CN=geoflux zipper" is not for client authentication| \(alert 42)/);
  });

  it('keeps one client flowing when another aborts', async () => {
    const s = await listen();
    open.push(s);
    const a = await dial(s.port, { certHash: tls.certHash });
    const b = await dial(s.port, { certHash: tls.certHash });
    open.push(a, b);
    await roundTrip(a, 64 * 1024);
    await b.writable.abort(new Error('gone'));
    await b.close();
    await roundTrip(a, 256 * 1024);
  });
});

it('says which WebTransport protocol it speaks', async () => {
  const s = await listenWebTransportBytes('127.0.0.1', 0, '/geoflux', { tls }, echo);
  open.push(s);
  expect(s.protocol).toMatch(/^HTTP\/(2|3)/);
});
