import { createHmac, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import Logger, { LogLevel } from '@matrixai/logger';
import { events, QUICClient, QUICServer, type QUICStream } from '@matrixai/quic';
import { normaliseCertHash, sha256Hex, type ClientTrust, type ServerTls } from './tls.ts';
import type { ByteDuplex } from './types.ts';

/**
 * Real QUIC (quiche via @matrixai/quic): TLS 1.3, ALPN `geoflux`, one bidirectional stream per connection,
 * opened by the client. Tuned as measured here: untuned it moves ~2 MB/s, because its default readable
 * chunk is 4 KiB and the kernel's default UDP buffers drop bursts.
 */

const ALPN = ['geoflux'];
const UDP_BUFFER = 4 * 1024 * 1024;
/** quiche's own crypto error code for a bad certificate (TLS alert 42, offset by 0x100 as QUIC does) */
const BAD_CERTIFICATE = 0x100 + 42;

/** its INFO level logs every stream; we only want its warnings */
const quietLogger = () => new Logger('quic', LogLevel.ERROR);

const tuning = {
  applicationProtos: ALPN,
  readableChunkSize: 64 * 1024,
  initialMaxData: 32 * 1024 * 1024,
  initialMaxStreamDataBidiLocal: 16 * 1024 * 1024,
  initialMaxStreamDataBidiRemote: 16 * 1024 * 1024,
  initialMaxStreamsBidi: 4,
  initialMaxStreamsUni: 0,
  // a dead peer is noticed within 15 s; keepalives every 5 s stop an idle but healthy link from timing out
  maxIdleTimeout: 15_000,
  keepAliveIntervalTime: 5_000,
};

/**
 * The library sends one JavaScript event per datagram, so its speed is set by datagram size: with the usual
 * 1,350-byte datagrams it moved 1.3 MB/s here, with 64 KiB ones 10 MB/s. Loopback has a 64 KiB MTU, so
 * on loopback we use it; anywhere else the standard size, which IP never has to fragment.
 */
const LOOPBACK = /^(127\.|::1$|localhost$)/;
const datagrams = (host: string) => {
  const size = LOOPBACK.test(host) ? 65_527 : 1_350;
  return { maxSendUdpPayloadSize: size, maxRecvUdpPayloadSize: 65_527 };
};

/** The UDP socket is the library's private; its buffers are the one knob it does not expose. */
function widenUdpBuffers(holder: unknown): void {
  const udp = (holder as { socket?: { socket?: { setRecvBufferSize(n: number): void; setSendBufferSize(n: number): void } } }).socket?.socket;
  try {
    udp?.setRecvBufferSize(UDP_BUFFER);
    udp?.setSendBufferSize(UDP_BUFFER);
  } catch {
    /* the OS may cap them (net.core.rmem_max); quiche still works, only slower under bursts */
  }
}

const hmacOps = {
  async sign(key: ArrayBuffer, data: ArrayBuffer): Promise<ArrayBuffer> {
    const mac = createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
    return mac.buffer.slice(mac.byteOffset, mac.byteOffset + mac.byteLength) as ArrayBuffer;
  },
  async verify(key: ArrayBuffer, data: ArrayBuffer, sig: ArrayBuffer): Promise<boolean> {
    const mac = createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
    const s = Buffer.from(sig);
    return s.length === mac.length && timingSafeEqual(s, mac);
  },
};

/** Give the stream's last bytes (a Rejected frame, say) this long to reach the peer before the connection goes. */
const LINGER = 1000;

function duplexOf(stream: QUICStream, remote: string, stop: () => Promise<void>): ByteDuplex {
  return {
    readable: stream.readable as ReadableStream<Uint8Array>,
    writable: stream.writable as WritableStream<Uint8Array>,
    remote,
    async close() {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stream.closedP.catch(() => {}), new Promise((r) => (timer = setTimeout(r, LINGER)))]);
      clearTimeout(timer);
      await stop().catch(() => {});
    },
  };
}

export interface QuicBytesServer {
  port: number;
  close(): Promise<void>;
}

export async function listenQuicBytes(
  host: string,
  port: number,
  opts: { tls: ServerTls; log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void },
  onDuplex: (d: ByteDuplex) => void,
): Promise<QuicBytesServer> {
  const server = new QUICServer({
    crypto: { key: randomBytes(32).buffer as ArrayBuffer, ops: hmacOps },
    config: { ...tuning, ...datagrams(host), key: opts.tls.key, cert: opts.tls.cert, verifyPeer: false },
    logger: quietLogger(),
  });
  server.addEventListener(events.EventQUICServerConnection.name, (evt: Event) => {
    const conn = (evt as events.EventQUICServerConnection).detail;
    const remote = `quic://${conn.remoteHost}:${conn.remotePort}`;
    let taken = false;
    // errors of one connection are that connection's: they must not reach the server's error path
    conn.addEventListener(events.EventQUICConnectionError.name, (e: Event) => {
      opts.log?.('debug', `${remote}: ${(e as events.EventQUICConnectionError).detail.message}`);
    });
    conn.addEventListener(events.EventQUICConnectionStream.name, (e: Event) => {
      const stream = (e as events.EventQUICConnectionStream).detail;
      if (taken) {
        stream.cancel(new Error('one stream per connection'));
        return;
      }
      taken = true;
      onDuplex(duplexOf(stream, remote, () => conn.stop({ isApp: true, errorCode: 0, force: true })));
    });
  });
  server.addEventListener(events.EventQUICServerError.name, (e: Event) =>
    opts.log?.('warn', `QUIC server error: ${(e as events.EventQUICServerError).detail.message}`),
  );
  await server.start({ host, port });
  widenUdpBuffers(server);
  return {
    port: server.port,
    close: () => server.stop({ isApp: true, errorCode: 0, force: true }),
  };
}

/** Decides trust in the server's certificate chain (leaf first, DER). Returns why not, or undefined. */
function verifyChain(trust: ClientTrust, certs: Uint8Array[]): string | undefined {
  const leaf = certs[0];
  if (!leaf) return 'the server sent no certificate';
  if (trust.certHash) {
    const want = normaliseCertHash(trust.certHash);
    const got = sha256Hex(leaf);
    return got === want ? undefined : `certificate hash mismatch: expected ${want}, got ${got}`;
  }
  if (trust.ca) {
    const ca = new X509Certificate(trust.ca);
    const cert = new X509Certificate(leaf);
    if (cert.checkIssued(ca) && cert.verify(ca.publicKey) && Date.parse(cert.validTo) > Date.now()) return undefined;
    if (cert.fingerprint256 === ca.fingerprint256) return undefined; // the CA given is the server's own self-signed cert
    return `certificate "${cert.subject}" is not signed by the given CA "${ca.subject}"`;
  }
  return undefined;
}

export async function dialQuicBytes(host: string, port: number, trust: ClientTrust & { timeout?: number }): Promise<ByteDuplex> {
  const timeout = trust.timeout ?? 5000;
  const custom = Boolean(trust.certHash || trust.ca);
  let refusal: string | undefined;
  const verifyPeer = !trust.insecure;
  let client: QUICClient;
  try {
    client = await QUICClient.createQUICClient(
      {
        host,
        port,
        crypto: { ops: { randomBytes: async (b: ArrayBuffer) => void randomBytes(b.byteLength).copy(Buffer.from(b)) } },
        config: {
          ...tuning,
          ...datagrams(host),
          verifyPeer,
          ...(custom
            ? {
                verifyCallback: async (certs: Uint8Array[]) => {
                  refusal = verifyChain(trust, certs);
                  return refusal ? BAD_CERTIFICATE : undefined;
                },
              }
            : {}),
        },
        logger: quietLogger(),
      },
      { timer: timeout },
    );
  } catch (e) {
    const why = refusal ?? (e as Error).message ?? String(e);
    const hint = !custom && verifyPeer && /certificate|verify|crypto|tls/i.test(why)
      ? ' (a self-signed zipper needs certHash, ca, or insecure: true)'
      : '';
    throw new Error(`could not connect to quic://${host}:${port}: ${/timed out|timeout/i.test(why) ? `no answer within ${timeout} ms` : why}${hint}`);
  }
  widenUdpBuffers(client);
  const conn = client.connection;
  conn.addEventListener(events.EventQUICConnectionError.name, () => {});
  client.addEventListener(events.EventQUICClientError.name, () => {});
  const stream = conn.newStream('bidi');
  return duplexOf(stream, `quic://${host}:${port}`, () => client.destroy({ isApp: true, errorCode: 0, force: true }));
}
