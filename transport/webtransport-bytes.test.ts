import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { connect as http2Connect } from 'node:http2';
import { createServer as createTcpServer } from 'node:net';
import * as x509 from '@peculiar/x509';
import { afterEach, describe, expect, it } from 'vitest';
import { certHashOf, selfSignedTls, type ServerTls } from './tls.ts';
import type { ByteDuplex } from './types.ts';
import { roundTrip } from './round-trip.ts';
import { dialWebTransportBytes, listenWebTransportBytes } from './webtransport-bytes.ts';

/** Real WebTransport on 127.0.0.1: over HTTP/2 here, where the HTTP/3 addon is not installed. */

const tls = await selfSignedTls();
const PATH = '/geoflux';
const urlOf = (port: number, path = PATH) => `https://127.0.0.1:${port}${path}`;

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => {});
});

/** an echo server; `duplexes` collects what onDuplex was given */
async function echoServer(serverTls: ServerTls = tls) {
  const duplexes: ByteDuplex[] = [];
  const server = await listenWebTransportBytes('127.0.0.1', 0, PATH, { tls: serverTls }, (d) => {
    duplexes.push(d);
    void d.readable.pipeTo(d.writable).catch(() => {});
  });
  open.push(server);
  return { server, duplexes };
}

async function dial(port: number, trust: Parameters<typeof dialWebTransportBytes>[1], path = PATH): Promise<ByteDuplex> {
  const d = await dialWebTransportBytes(urlOf(port, path), { timeout: 3000, ...trust });
  open.push(d);
  return d;
}


// --- certificates from a CA: root → intermediate → leaf, 90 days (too long for hash pinning) ------------------

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const newKeys = async () => (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
const pemKey = async (k: CryptoKey) =>
  `-----BEGIN PRIVATE KEY-----\n${Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k)).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
let serial = 1;

async function issue(subject: string, keys: CryptoKeyPair, issuer: { name: string; keys: CryptoKeyPair }, ca: boolean, sans: string[] = []) {
  const notBefore = new Date(Date.now() - 60_000);
  return x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject,
    issuer: issuer.name,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 90 * 86_400_000),
    signingAlgorithm: alg,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: ca
      ? [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)]
      : [
          new x509.BasicConstraintsExtension(false),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.SubjectAlternativeNameExtension(sans.map((h) => (/^[\d.]+$/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
        ],
  });
}

async function caChain(leafHosts: string[]) {
  const rootKeys = await newKeys();
  const root = await issue('CN=geoflux test root', rootKeys, { name: 'CN=geoflux test root', keys: rootKeys }, true);
  const midKeys = await newKeys();
  const mid = await issue('CN=geoflux test intermediate', midKeys, { name: 'CN=geoflux test root', keys: rootKeys }, true);
  const leafKeys = await newKeys();
  const leaf = await issue('CN=geoflux zipper', leafKeys, { name: 'CN=geoflux test intermediate', keys: midKeys }, false, leafHosts);
  const leafPem = leaf.toString('pem') + '\n';
  const serverTls: ServerTls = {
    cert: leafPem + mid.toString('pem') + '\n', // the server sends its intermediate along
    key: await pemKey(leafKeys.privateKey),
    certHash: certHashOf(leafPem),
    selfSigned: false,
  };
  return { rootPem: root.toString('pem') + '\n', serverTls };
}

describe('WebTransport byte streams over HTTP/2', () => {
  it('echoes 1 MiB written in 16 KiB chunks (past the 16 KiB flow-control window)', { timeout: 15_000 }, async () => {
    const { server, duplexes } = await echoServer();
    const d = await dial(server.port, { certHash: tls.certHash });
    expect(d.remote).toBe(`webtransport://127.0.0.1:${server.port}`);
    await roundTrip(d, 1024 * 1024);
    expect(duplexes).toHaveLength(1);
    expect(duplexes[0].remote).toMatch(/^webtransport:\/\/127\.0\.0\.1:\d+$/);
  });

  it('trusts a pinned hash, the self-signed certificate as CA, or insecure; refuses a wrong hash or no trust', async () => {
    const { server } = await echoServer();
    for (const trust of [{ certHash: tls.certHash }, { certHash: tls.certHash.toUpperCase().replace(/(..)(?!$)/g, '$1:') }, { ca: tls.cert }, { insecure: true }]) {
      await roundTrip(await dial(server.port, trust), 1000);
    }
    const url = urlOf(server.port).replace(/[/.]/g, '\\$&');
    await expect(dial(server.port, { certHash: 'ab'.repeat(32) })).rejects.toThrow(
      new RegExp(`^could not open webtransport session ${url}: server certificate hash ${tls.certHash} is not the pinned (ab){32}$`),
    );
    await expect(dial(server.port, {})).rejects.toThrow(new RegExp(`^could not open webtransport session ${url}: self-signed certificate`));
  });

  it('verifies a CA chain (root → intermediate → leaf) on the connection itself', async () => {
    const { rootPem, serverTls } = await caChain(['127.0.0.1', 'localhost']);
    const { server } = await echoServer(serverTls);
    await roundTrip(await dial(server.port, { ca: rootPem }), 1000);
    const other = await caChain(['127.0.0.1']);
    await expect(dial(server.port, { ca: other.rootPem })).rejects.toThrow(/: certificate "CN=geoflux test intermediate" is not signed by the given CA/);
    // a 90-day certificate cannot be pinned (WebTransport's 14-day rule), and says so
    await expect(dial(server.port, { certHash: serverTls.certHash })).rejects.toThrow(/valid for 90\.0 days; WebTransport hash pinning accepts at most 14/);

    const elsewhere = await caChain(['zipper.example']);
    const { server: wrongName } = await echoServer(elsewhere.serverTls);
    await expect(dial(wrongName.port, { ca: elsewhere.rootPem })).rejects.toThrow(/\(DNS:zipper\.example\) is not for 127\.0\.0\.1/);
  });

  it('refuses other paths, and says why it could not reach a server', async () => {
    const { server, duplexes } = await echoServer();
    await expect(dial(server.port, { insecure: true }, '/elsewhere')).rejects.toThrow(/server refused the session: is \/elsewhere its path\?/);
    expect(duplexes).toHaveLength(0);

    const silent = createTcpServer((s) => void s.on('error', () => {}).resume()); // accepts TCP, never speaks TLS
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    open.push({ close: () => new Promise<void>((r) => silent.close(() => r())) });
    const silentPort = (silent.address() as { port: number }).port;
    await expect(dial(silentPort, { insecure: true, timeout: 300 })).rejects.toThrow(
      `could not open webtransport session https://127.0.0.1:${silentPort}/geoflux: no TLS handshake within 300 ms`,
    );
    silent.close();
    await new Promise((r) => setTimeout(r, 10));
    await expect(dial(silentPort, { insecure: true })).rejects.toThrow(/: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  it('keeps one session flowing while another aborts and a broken peer comes and goes', { timeout: 15_000 }, async () => {
    const { server, duplexes } = await echoServer();
    const a = await dial(server.port, { certHash: tls.certHash });
    const b = await dial(server.port, { certHash: tls.certHash });
    await roundTrip(b, 64 * 1024, 16 * 1024, 7);

    const flowing = roundTrip(a, 1024 * 1024, 16 * 1024, 3);
    // b gives up in the middle of a transfer
    const bw = b.writable.getWriter();
    await bw.write(new Uint8Array(256 * 1024));
    await bw.abort(new Error('gone'));
    await b.readable.cancel().catch(() => {});
    await b.close();
    // a peer that opens a session, sends a nonsense capsule and drops the connection
    const raw = http2Connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
    raw.on('error', () => {});
    const req = raw.request({ ':method': 'CONNECT', ':protocol': 'webtransport', ':path': PATH } as never);
    req.on('error', () => {});
    await new Promise((r) => req.once('response', r));
    req.write(Buffer.from([0x41, 0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    raw.destroy();

    await flowing;
    await roundTrip(a, 256 * 1024, 16 * 1024, 5);
    // and the server still takes new sessions
    await roundTrip(await dial(server.port, { insecure: true }), 1000);
    expect(duplexes).toHaveLength(3);
  });

  it('says it speaks HTTP/2, and why not HTTP/3', async () => {
    let addon = true;
    try {
      import.meta.resolve('@fails-components/webtransport-transport-http3-quiche');
    } catch {
      addon = false;
    }
    const { server } = await echoServer();
    if (addon) expect(server.protocol).toMatch(/^HTTP\/(3|2 \(HTTP\/3 addon .* failed to load)/);
    else expect(server.protocol).toBe('HTTP/2 (HTTP/3 addon @fails-components/webtransport-transport-http3-quiche not installed)');
  });
});
