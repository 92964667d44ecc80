import { connect as http2Connect } from 'node:http2';
import { connect as tcpConnect, createServer as createTcpServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedTls, type ServerTls } from './tls.ts';
import type { ByteDuplex } from './types.ts';
import { roundTrip } from '../testing/round-trip.ts';
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
async function echoServer(serverTls: ServerTls = tls, handshakeTimeout?: number) {
  const duplexes: ByteDuplex[] = [];
  const server = await listenWebTransportBytes('127.0.0.1', 0, PATH, { tls: serverTls, handshakeTimeout }, (d) => {
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
      new RegExp(`^could not open webtransport session ${url}: certificate hash mismatch: expected (ab){32}, got ${tls.certHash}$`),
    );
    await expect(dial(server.port, {})).rejects.toThrow(
      new RegExp(`^could not open webtransport session ${url}: its certificate is not trusted by this system's CAs .* \\(TLS: DEPTH_ZERO_SELF_SIGNED_CERT\\)$`),
    );
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

  it('shuts down while a session it serves is closing (the library spins on a second close)', async () => {
    const served: ByteDuplex[] = [];
    const server = await listenWebTransportBytes('127.0.0.1', 0, PATH, { tls }, (d) => void served.push(d));
    open.push(server);
    const d = await dial(server.port, { certHash: tls.certHash });
    await d.writable.getWriter().write(new Uint8Array(10));
    await expect.poll(() => served.length).toBe(1);
    await Promise.all([served[0].close(), server.close()]);
  });

  it('drops connections that never start TLS after the handshake timeout, and counts them', { timeout: 60_000 }, async () => {
    const { server } = await echoServer(tls, 300);
    const N = 300; // as many as in the probe that found them all still open after 15 s
    const sockets = await Promise.all(
      Array.from({ length: N }, () => {
        const s = tcpConnect(server.port, '127.0.0.1');
        s.on('error', () => {});
        return new Promise<typeof s>((r) => s.once('connect', () => r(s)));
      }),
    );
    await Promise.all(sockets.map((s) => new Promise((r) => (s.closed ? r(null) : s.once('close', r)))));
    expect(server.stats.tlsTimeouts).toBe(N);
    // and it still serves
    await roundTrip(await dial(server.port, { certHash: tls.certHash }), 1000);
  });

  it('drops a connection that finishes TLS but asks for no session, and a session that opens no stream', { timeout: 60_000 }, async () => {
    const { server, duplexes } = await echoServer(tls, 300);
    const quiet = tlsConnect({ host: '127.0.0.1', port: server.port, ALPNProtocols: ['h2'], rejectUnauthorized: false });
    quiet.on('error', () => {}).resume(); // reading, or it would never see the server's end
    await new Promise((r) => quiet.once('close', r));

    const raw = http2Connect(`https://127.0.0.1:${server.port}`, { rejectUnauthorized: false });
    raw.on('error', () => {});
    const req = raw.request({ ':method': 'CONNECT', ':protocol': 'webtransport', ':path': PATH } as never);
    req.on('error', () => {});
    await new Promise((r) => req.once('response', r));
    await new Promise((r) => req.once('close', r)); // the server closes the session that opened no stream
    raw.destroy();
    expect(server.stats.sessionTimeouts).toBe(2);
    expect(server.stats.tlsTimeouts).toBe(0);
    expect(duplexes).toHaveLength(0);
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
