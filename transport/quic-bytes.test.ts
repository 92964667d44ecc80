import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dialQuicBytes, listenQuicBytes } from './quic-bytes.ts';
import { selfSignedTls, type ClientTrust } from './tls.ts';
import type { ByteDuplex } from './types.ts';
import { roundTrip } from '../testing/round-trip.ts';
import { waitFor } from '../testing/wait-for.ts';

/** Real QUIC on 127.0.0.1: a server on port 0 and clients that dial it. */
const realSend = dgram.Socket.prototype.send;
const realAlloc = Buffer.allocUnsafe;
const tls = await selfSignedTls();
const stranger = await selfSignedTls();

const servers: Array<{ close(): Promise<void> }> = [];
const clients: Array<{ close(): Promise<void> }> = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  // each close waits out QUIC's short draining period, so close them side by side; clients first
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(servers.splice(0).map((s) => s.close().catch(() => {})));
});

const serverSide: ByteDuplex[] = [];
const echo = (d: ByteDuplex) => {
  serverSide.push(d);
  void d.readable.pipeTo(d.writable).catch(() => {});
};

async function echoServer() {
  const s = await listenQuicBytes('127.0.0.1', 0, { tls }, echo);
  servers.push(s);
  return s;
}

async function dial(port: number, trust: ClientTrust = { certHash: tls.certHash }) {
  const d = await dialQuicBytes('127.0.0.1', port, { ...trust, timeout: 3000 });
  clients.push(d);
  return d;
}


async function readAll(readable: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of readable) parts.push(part);
  return Buffer.concat(parts);
}

describe('quic bytes', () => {
  it("tells onPacket of the peer's packets, and knows the round trip", async () => {
    const s = await echoServer();
    const d = await dial(s.port);
    let packets = 0;
    d.onPacket!(() => packets++);
    await roundTrip(d, 64 * 1024);
    expect(packets).toBeGreaterThan(0);
    expect(d.rtt!()).toBeGreaterThan(0);
  });

  it("tells the server's channels of the datagrams its socket dropped, which judge no peer by them", async () => {
    const s = await echoServer();
    const before = serverSide.length;
    await roundTrip(await dial(s.port), 1024);
    await waitFor(() => serverSide.length > before);
    expect(serverSide[before].dropped?.()).toBe(0); // listed by Linux, no drops; elsewhere 0 as well
  });

  it('pings the peer with a packet it counts as life, and no byte on the stream', async () => {
    // no keep-alives of the library's own at either end: the only packet after the quiet is the ping's
    const s = await listenQuicBytes('127.0.0.1', 0, { tls, keepAlive: 0 }, echo);
    servers.push(s);
    const d = await dialQuicBytes('127.0.0.1', s.port, { certHash: tls.certHash, timeout: 3000, keepAlive: 0 });
    clients.push(d);
    await roundTrip(d, 16);
    const server = serverSide[serverSide.length - 1]!;
    let packets = 0;
    let last = performance.now();
    server.onPacket!(() => {
      packets++;
      last = performance.now();
    });
    // the round trip's last ACKs come in first: then the line is quiet, and only the ping can break it
    await waitFor(() => performance.now() - last > 300);
    packets = 0;
    d.ping!();
    await waitFor(() => packets > 0);
    // what the stream carries next is the next byte written: the ping added none
    const w = d.writable.getWriter();
    await w.write(Uint8Array.of(42));
    w.releaseLock();
    const r = d.readable.getReader();
    expect([...(await r.read()).value!]).toEqual([42]);
    r.releaseLock();
  });

  it('echoes 1 MiB written in 16 KiB chunks', async () => {
    const s = await echoServer();
    serverSide.length = 0;
    const d = await dial(s.port);
    expect(d.remote).toBe(`quic://127.0.0.1:${s.port}`);
    await roundTrip(d, 1024 * 1024);
    expect(serverSide).toHaveLength(1);
    expect(serverSide[0].remote).toMatch(/^quic:\/\/127\.0\.0\.1:\d+$/);
  });

  it('on loopback, takes for each datagram a buffer no larger than the largest datagram quiche sends', async () => {
    // the library allocates maxSendUdpPayloadSize bytes per datagram it asks quiche for, so asking for more than
    // quiche fills is garbage, a tenth of a busy listener's CPU at 65,507 (docs/failure-detection.md)
    const sent: number[] = [];
    const taken: number[] = [];
    const send = vi.spyOn(dgram.Socket.prototype, 'send').mockImplementation(function (this: dgram.Socket, ...a: unknown[]) {
      sent.push(typeof a[1] === 'number' && typeof a[2] === 'number' ? a[2] : (a[0] as Uint8Array).byteLength);
      return realSend.apply(this, a as never);
    });
    const alloc = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((n: number) => (taken.push(n), realAlloc(n)));
    try {
      const s = await echoServer();
      await roundTrip(await dial(s.port), 1024 * 1024);
    } finally {
      send.mockRestore();
      alloc.mockRestore();
    }
    const largest = Math.max(...sent);
    expect(largest).toBe(16_383); // quiche's largest, though loopback's MTU allows 65,507
    // bigger buffers only once per stream (its read chunk), not per datagram
    expect(taken.filter((n) => n > largest).length).toBeLessThan(10);
    expect(taken.filter((n) => n === largest).length).toBeGreaterThan(sent.filter((n) => n === largest).length);
  });

  it('trusts a pinned hash, a CA, or insecure on request; refuses otherwise, saying why', async () => {
    const s = await echoServer();
    const colonHex = tls.certHash.toUpperCase().match(/../g)!.join(':');
    const base64 = Buffer.from(tls.certHash, 'hex').toString('base64');
    for (const trust of [{ certHash: tls.certHash }, { certHash: colonHex }, { certHash: base64 }, { ca: tls.cert }, { insecure: true }]) {
      const d = await dial(s.port, trust);
      await roundTrip(d, 4096);
    }
    await expect(dial(s.port, { certHash: 'ab'.repeat(32) })).rejects.toThrow(
      `could not connect to quic://127.0.0.1:${s.port}: certificate hash mismatch: expected ${'ab'.repeat(32)}, got ${tls.certHash}`,
    );
    await expect(dial(s.port, { certHash: stranger.certHash })).rejects.toThrow(/certificate hash mismatch/);
    await expect(dial(s.port, { ca: stranger.cert })).rejects.toThrow(/is not signed by the given CA/);
    await expect(dial(s.port, {})).rejects.toThrow(/not trusted by this system's CAs/);
    // none of the refused attempts disturbed the server
    await roundTrip(await dial(s.port), 64 * 1024);
  });

  it('gives up on a peer that never answers, within the timeout', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const { port } = silent.address();
    try {
      await expect(dialQuicBytes('127.0.0.1', port, { insecure: true, timeout: 300 })).rejects.toThrow(
        `could not reach quic://127.0.0.1:${port} within 300 ms`,
      );
    } finally {
      silent.close();
    }
  });

  it('keeps one client flowing when another is aborted, or its process killed', async () => {
    const s = await echoServer();
    const a = await dial(s.port);
    const b = await dial(s.port);
    await Promise.all([roundTrip(a, 256 * 1024, 16 * 1024, 7), roundTrip(b, 256 * 1024, 16 * 1024, 13)]);

    // b goes away abruptly: RESET_STREAM / STOP_SENDING, then the connection is closed
    const bw = b.writable.getWriter();
    void bw.write(new Uint8Array(64 * 1024)).catch(() => {});
    await bw.abort(new Error('gone'));
    await b.readable.cancel(new Error('gone'));
    await b.close();
    await roundTrip(a, 256 * 1024);

    // a client process that dies mid-stream: no goodbye at all, the server only ever hears silence
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { dialQuicBytes } = await import(${JSON.stringify(fileURLToPath(new URL('./quic-bytes.ts', import.meta.url)))});
         const d = await dialQuicBytes('127.0.0.1', ${s.port}, { certHash: '${tls.certHash}' });
         const w = d.writable.getWriter();
         const r = d.readable.getReader();
         await w.write(new Uint8Array(16384));
         await r.read();
         console.log('flowing');
         for (;;) await w.write(new Uint8Array(16384));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => b.toString().includes('flowing') && resolve());
      child.on('exit', (code) => reject(new Error(`client process exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await roundTrip(a, 256 * 1024);
    // and new clients are still welcome
    await roundTrip(await dial(s.port), 64 * 1024);
  });

  it('drops a handshake that stalls after handshakeTimeout, and counts it', { timeout: 30_000 }, async () => {
    const s = await listenQuicBytes('127.0.0.1', 0, { tls, handshakeTimeout: 300 }, echo);
    servers.push(s);
    // A relay that lets the client's packets through until the server has started a connection (answered a
    // second time, after its stateless Retry), then drops everything: a client that vanished mid-handshake.
    const relay = dgram.createSocket('udp4');
    await new Promise<void>((r) => relay.bind(0, '127.0.0.1', r));
    let client: { port: number; address: string } | undefined;
    let answers = 0;
    relay.on('message', (msg, from) => {
      if (from.port === s.port) {
        if (++answers === 1 && client) relay.send(msg, client.port, client.address);
      } else if (answers < 2) {
        client = from;
        relay.send(msg, s.port, '127.0.0.1');
      }
    });
    await expect(dialQuicBytes('127.0.0.1', relay.address().port, { certHash: tls.certHash, timeout: 1500 })).rejects.toThrow(/within 1500 ms/);
    relay.close();
    await expect.poll(() => s.stats.tlsTimeouts, { timeout: 5000 }).toBe(1);
    // and it still serves
    await roundTrip(await dial(s.port), 4096);
  });

  it('drops a client that connects but writes nothing on a stream, and counts it', { timeout: 30_000 }, async () => {
    const s = await listenQuicBytes('127.0.0.1', 0, { tls, handshakeTimeout: 300 }, echo);
    servers.push(s);
    const quiet = await dial(s.port);
    const ended = await quiet.readable
      .getReader()
      .read()
      .then(
        () => 'ended',
        (e: Error) => e.message,
      );
    expect(ended).toMatch(/code 2/);
    expect(s.stats.sessionTimeouts).toBe(1);
    expect(s.stats.tlsTimeouts).toBe(0);
  });

  it("names QUIC's own idle timeout as the reason a silent connection ended, on both sides (quiche gives none)", { timeout: 30_000 }, async () => {
    const quiet = { quicIdleTimeout: 300, keepAlive: 0 };
    const accepted: ByteDuplex[] = [];
    const s = await listenQuicBytes('127.0.0.1', 0, { tls, ...quiet }, (d) => accepted.push(d));
    servers.push(s);
    const d = await dialQuicBytes('127.0.0.1', s.port, { certHash: tls.certHash, timeout: 3000, ...quiet });
    clients.push(d);
    const writer = d.writable.getWriter();
    await writer.write(new Uint8Array([1]));
    const server = await waitFor(() => accepted[0], 'the server side');
    // what ends each side's reading: the byte written is read on the way
    const why = async (side: ByteDuplex) => {
      const reader = side.readable.getReader();
      try {
        while (!(await reader.read()).done);
        return 'ended';
      } catch (e) {
        return side.failure?.(e as Error)?.message ?? `unexplained: "${(e as Error).message}"`;
      }
    };
    expect(await why(d)).toBe('QUIC idle timeout: no packet from the peer in 300 ms');
    expect(await why(server)).toBe('QUIC idle timeout: no packet from the peer in 300 ms');
    writer.releaseLock();
  });

  it('survives garbage datagrams', async () => {
    const s = await echoServer();
    const a = await dial(s.port);
    const junk = dgram.createSocket('udp4');
    for (let i = 0; i < 600; i++) {
      const b = randomBytes(i % 3 === 0 ? 1 + (i % 1400) : 1200);
      if (i % 3 === 1) {
        // looks like a QUIC v1 Initial: long header, version 1, plausible connection id lengths
        b[0] = 0xc0 | (b[0] & 0x0f);
        b.writeUInt32BE(1, 1);
        b[5] = 8 + (i % 13);
      } else if (i % 3 === 2) {
        b[0] = 0x40 | (b[0] & 0x3f); // short header, random connection id
      }
      await new Promise<void>((r) => junk.send(b, s.port, '127.0.0.1', () => r()));
    }
    junk.close();
    await roundTrip(a, 128 * 1024);
    await roundTrip(await dial(s.port), 128 * 1024);
  });

  it('delivers the last bytes when close() follows closing the writable', async () => {
    // the server answers 2 MiB and hangs up at once, as a zipper rejecting a client would
    const answer = randomBytes(2 * 1024 * 1024);
    const s = await listenQuicBytes('127.0.0.1', 0, { tls }, (d) => {
      void (async () => {
        const r = d.readable.getReader();
        await r.read();
        r.releaseLock();
        const w = d.writable.getWriter();
        await w.write(answer);
        await w.close();
        await d.close();
      })().catch(() => {});
    });
    servers.push(s);
    const d = await dial(s.port);
    const w = d.writable.getWriter();
    await w.write(new Uint8Array([1]));
    const got = await readAll(d.readable);
    expect(Buffer.compare(got, answer)).toBe(0);

    // and the other way round: the client writes, closes and hangs up; the server reads every byte
    let received: Promise<Buffer> | undefined;
    const s2 = await listenQuicBytes('127.0.0.1', 0, { tls }, (sd) => {
      received = readAll(sd.readable).finally(async () => {
        await sd.writable.close().catch(() => {});
      });
    });
    servers.push(s2);
    const c = await dial(s2.port);
    const sent = randomBytes(2 * 1024 * 1024);
    const cw = c.writable.getWriter();
    for (let i = 0; i < sent.length; i += 64 * 1024) await cw.write(sent.subarray(i, i + 64 * 1024));
    await cw.close();
    await c.close();
    await expect.poll(() => received).toBeDefined();
    expect(Buffer.compare(await received!, sent)).toBe(0);
  });
});
