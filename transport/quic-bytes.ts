import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Logger, { LogLevel } from '@matrixai/logger';
import { errors, events, QUICClient, QUICServer, type QUICConnection, type QUICStream } from '@matrixai/quic';
import type { ClientIdentity, ClientTrust, ServerTls } from './tls.ts';
import { sendLean } from './quic-lean-send.ts';
import { scanStreamsWhenNeeded, writeWaiting } from './quic-stream-scan.ts';
import { clientCertRefused, describeAlert } from './tls-alerts.ts';
import { udpDrops } from './udp-drops.ts';
import { caVerifier, serverVerifier, SYSTEM_UNTRUSTED, TrustError } from './trust.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, newListenerStats, type ByteDuplex, type ListenerStats } from './types.ts';

/**
 * Real QUIC (quiche, through @matrixai/quic): TLS 1.3, ALPN `geoflux`, one bidirectional stream per
 * connection, opened by the client. The server learns of that stream when its first bytes arrive (QUIC has
 * no frame that announces an empty stream), so `onDuplex` runs on the client's first write, not on connect.
 *
 * Tuned as measured here. The library's cost is per datagram (every datagram received takes a lock that
 * builds a timer, an AbortController and an Error with its stack), so it moves a roughly fixed ~1,300
 * datagrams a second whatever their size: ~1.5 MB/s with the usual 1,350-byte datagrams, 10-20 MB/s on
 * loopback where they can be 16 KiB (quiche's largest). It does not pace its bursts either, so small kernel UDP buffers drop them.
 */

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

const ALPN = ['geoflux'];
const UDP_BUFFER = 4 * 1024 * 1024;
/** TLS alert 42 (bad_certificate) as a QUIC transport error: crypto errors are 0x100 + the alert */
const BAD_CERTIFICATE = 0x100 + 42;
/** the application error code we close with when a peer breaks the one-stream rule */
const ONE_STREAM_ONLY = 1;
/** ... and when it opens no stream in time */
const NO_STREAM = 2;
/**
 * QUIC's own idle timeout when the caller sets none. The frame channel's heartbeat (liveness.ts) notices a
 * vanished peer first; quic.ts sets this to twice the channel's idle timeout, as a second line.
 */
const DEFAULT_QUIC_IDLE_TIMEOUT = 30_000;
/**
 * How long `close()` waits, after a graceful end of writing, for what was written (FIN included) to be
 * acknowledged before it closes anyway. Closing the connection earlier drops whatever quiche still holds.
 */
const LINGER = 2000;

/** The library logs every connection and stream at INFO and never uses WARN or ERROR: keep it quiet. */
const quietLogger = () => new Logger('quic', LogLevel.WARN);

/** Shared by both ends. */
const tuning = {
  applicationProtos: ALPN,
  // up to 64 KiB per read from quiche (the default is 4 KiB): fewer, larger chunks for the reader
  readableChunkSize: 64 * 1024,
  // Flow-control windows: how much a peer may send that we have not read yet. quiche grows them on its own
  // (to 16 MiB a stream, 24 MiB a connection) while the reader keeps up, so these only set where they
  // start; kept small they bound what a paused connection can pile up in memory. 2 MiB is several times
  // what is in flight here (measured: the same speed with 2 or 16 MiB).
  initialMaxData: 4 * 1024 * 1024,
  initialMaxStreamDataBidiLocal: 2 * 1024 * 1024,
  initialMaxStreamDataBidiRemote: 2 * 1024 * 1024,
  initialMaxStreamDataUni: 0,
  initialMaxStreamsUni: 0,
};

/**
 * QUIC's idle timeout: a connection silent this long is closed by quiche. PINGs at a third of it keep an idle
 * but healthy link (and any NAT binding on the way) alive, unless the frame channel's heartbeat does (keepAlive
 * 0): then they are only more datagrams, each with its ACK, and datagrams are what this library pays for.
 */
const idleConfig = (ms = DEFAULT_QUIC_IDLE_TIMEOUT, keepAlive = Math.floor(ms / 3)) => ({ maxIdleTimeout: ms, keepAliveIntervalTime: keepAlive || undefined });

/**
 * Speed is set by datagram size (see above): 1,350-byte datagrams moved 1.3-2 MB/s here, big ones 10-20 MB/s.
 * Loopback has a 64 KiB MTU, but quiche never fills a datagram beyond 16,383 bytes (measured: the largest of
 * 64 MiB sent over loopback with 65,507 allowed), and the library allocates a buffer of this size for every
 * datagram it asks quiche for, the last one that comes back empty included: at 65,507 that was ~130 KB of
 * garbage per send, a tenth of a listener's CPU in collections with hundreds of idle connections. So on
 * loopback what quiche can use, anywhere else the standard size, which no path has to fragment.
 */
const QUICHE_LARGEST_DATAGRAM = 16_383;
const LOOPBACK = /^(127\.|localhost$|::1$)/;
const datagrams = (host: string) => {
  const send = LOOPBACK.test(host) ? QUICHE_LARGEST_DATAGRAM : 1_350;
  return { maxSendUdpPayloadSize: send, maxRecvUdpPayloadSize: 65_527 };
};

/** The UDP socket is the library's own; its buffer sizes are the one knob it does not expose. */
function widenUdpBuffers(owner: QUICServer | QUICClient, log?: Log): void {
  type Udp = { setRecvBufferSize(n: number): void; setSendBufferSize(n: number): void; getRecvBufferSize(): number };
  const udp = (owner as unknown as { socket?: { socket?: Udp } }).socket?.socket;
  if (!udp) return;
  try {
    udp.setRecvBufferSize(UDP_BUFFER);
    udp.setSendBufferSize(UDP_BUFFER);
    // Linux caps these at net.core.rmem_max / wmem_max (and doubles what it grants)
    if (udp.getRecvBufferSize() < UDP_BUFFER) log?.('debug', `QUIC: UDP receive buffer capped at ${udp.getRecvBufferSize()} bytes (raise net.core.rmem_max)`);
  } catch (e) {
    log?.('debug', `QUIC: could not size the UDP buffers: ${(e as Error).message}`);
  }
}

/** What a reader or writer sees when the peer resets its side or stops reading ours (the library's is "read 0"). */
/** A stream's failure explained: one that quiche's idle timer ended comes with an empty message. */
const explained =
  (idleTimeout = DEFAULT_QUIC_IDLE_TIMEOUT, other?: ByteDuplex['failure']): NonNullable<ByteDuplex['failure']> =>
  (cause) =>
    other?.(cause) ?? (cause instanceof errors.ErrorQUICConnectionIdleTimeout ? new Error(`QUIC idle timeout: no packet from the peer in ${idleTimeout} ms`, { cause }) : undefined);

const codeToReason = (type: 'read' | 'write', code: number) =>
  new Error(type === 'read' ? `QUIC peer reset the stream (code ${code})` : `QUIC peer stopped reading the stream (code ${code})`);

const quicUrl = (host: string, port: number) => `quic://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;

/** HMAC for the server's stateless-retry tokens. */
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

/**
 * True once quiche has dropped the stream: everything we sent, FIN included, was acknowledged and the peer's
 * side was read to its end. quiche answers InvalidStreamState for a stream it no longer has.
 */
function streamDone(stream: QUICStream): boolean {
  const conn = (stream as unknown as { connection: { conn: { streamCapacity(id: number): number; isClosed(): boolean; isDraining(): boolean } } })
    .connection.conn;
  if (conn.isClosed() || conn.isDraining()) return true;
  try {
    conn.streamCapacity(stream.streamId);
    return false;
  } catch {
    return true;
  }
}

async function untilDone(stream: QUICStream, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!streamDone(stream) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/**
 * Each connection's recv-then-send pairs are serialised by the library with a general-purpose lock that builds a
 * timer, an AbortController and an Error with its stack for every datagram received. Profiled with 300
 * connections at one fix a second in one process, that lock was a third of the process's CPU (the rest of the
 * library and the garbage it left most of the remainder), enough to starve the heartbeats. Mutual exclusion is
 * all the library asks of it (`withF`, nothing else), so a promise chain does the job.
 *
 * Every datagram from the peer passes here, ACKs and QUIC PINGs included, so this is also where any bytes
 * count as a sign of the peer's life (`ByteDuplex.onPacket`), before the stream has them.
 */
class RecvLock {
  /** told of every datagram for this connection */
  packet: () => void = () => {};
  private tail: Promise<unknown>;

  constructor(previous: { withF(f: () => Promise<void>): Promise<void> }) {
    // a recv already holding the library's own lock finishes before the first one through this
    this.tail = previous.withF(async () => {}).catch(() => {});
  }

  withF<T>(f: () => Promise<T>): Promise<T> {
    this.packet();
    const run = this.tail.then(f);
    this.tail = run.catch(() => {});
    return run;
  }
}

function cheapRecvLock(conn: QUICConnection): RecvLock {
  const c = conn as unknown as { recvLock: ConstructorParameters<typeof RecvLock>[0] };
  const lock = new RecvLock(c.recvLock);
  c.recvLock = lock;
  return lock;
}

/** quiche's latest round-trip sample, ms: measured from packets to their ACKs, so both ends' event loops are in it */
function roundTrip(conn: QUICConnection): number {
  const native = (conn as unknown as { conn: { pathStats(): Array<{ active: boolean; rtt: number }> } }).conn;
  try {
    return native.pathStats().find((p) => p.active)?.rtt ?? 0;
  } catch {
    return 0; // a closed connection has no paths
  }
}

function duplexOf(stream: QUICStream, conn: QUICConnection, remote: string, stop: () => Promise<void>, lock: RecvLock, failure?: ByteDuplex['failure'], dropped?: ByteDuplex['dropped']): ByteDuplex {
  // a graceful end of our writing (as opposed to an abort) is worth waiting for: those bytes should arrive
  let finished = false;
  stream.addEventListener(
    events.EventQUICStreamCloseWrite.name,
    (e: Event) => {
      if ((e as events.EventQUICStreamCloseWrite).detail == null) finished = true;
    },
    { once: true },
  );
  let closing: Promise<void> | undefined;
  scanStreamsWhenNeeded(conn, writeWaiting(stream));
  return {
    readable: stream.readable as unknown as ReadableStream<Uint8Array>,
    writable: stream.writable as unknown as WritableStream<Uint8Array>,
    remote,
    failure,
    onPacket(heard) {
      lock.packet = heard;
    },
    rtt: () => roundTrip(conn),
    dropped,
    ping() {
      // as the library's own keep-alive does it: quiche queues a PING unless an ack-eliciting packet is due anyway
      const c = conn as unknown as { conn: { sendAckEliciting(): void }; send(): Promise<void> };
      try {
        c.conn.sendAckEliciting();
      } catch {
        return; // closed: the stream's end tells the channel
      }
      c.send().catch(() => {});
    },
    close() {
      closing ??= (async () => {
        // If our side was closed gracefully, give the last bytes (a Rejected frame, say) up to LINGER to
        // land and the peer time to finish its side; after an abort, or with the writable left open, close now.
        if (finished) await untilDone(stream, LINGER);
        await stop().catch(() => {});
      })();
      return closing;
    },
  };
}

export interface QuicBytesServer {
  port: number;
  /** what it dropped; `idleTimeouts` is the frame channels' to count (quic.ts) */
  readonly stats: ListenerStats;
  close(): Promise<void>;
}

export interface QuicListenOptions {
  tls: ServerTls;
  /** ms the TLS handshake may take, and then the client's first write on its stream (default 10,000) */
  handshakeTimeout?: number;
  /** QUIC's own idle timeout, ms (default 30,000) */
  quicIdleTimeout?: number;
  /** ms between QUIC PINGs on a silent connection (default a third of quicIdleTimeout; 0: none) */
  keepAlive?: number;
  /** mutual TLS: client certificates must chain to these CA(s) (PEM) */
  clientCa?: string;
  log?: Log;
}

const causes = (e: unknown): unknown[] => (e instanceof Error ? [e, ...causes(e.cause)] : []);

export async function listenQuicBytes(host: string, port: number, opts: QuicListenOptions, onDuplex: (d: ByteDuplex) => void): Promise<QuicBytesServer> {
  const log: Log = opts.log ?? (() => {});
  const stats = newListenerStats();
  const handshakeTimeout = opts.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const clients = opts.clientCa ? caVerifier(opts.clientCa, 'client') : undefined;
  const server = new QUICServer({
    crypto: { key: randomBytes(32).buffer as ArrayBuffer, ops: hmacOps },
    config: {
      ...tuning,
      ...idleConfig(opts.quicIdleTimeout, opts.keepAlive),
      ...datagrams(host),
      // one stream per connection: the client may open exactly one
      initialMaxStreamsBidi: 1,
      key: opts.tls.key,
      cert: opts.tls.cert,
      // with clientCa, quiche asks for a certificate and refuses a handshake without one; our verifier judges it
      verifyPeer: clients !== undefined,
      ...(clients && opts.clientCa
        ? {
            ca: opts.clientCa,
            verifyCallback: async (certs: Uint8Array[]) => {
              const refusal = clients(certs);
              if (refusal) log('info', `QUIC on ${quicUrl(host, server.port)}: refused a client certificate: ${refusal}`);
              return refusal === undefined ? undefined : BAD_CERTIFICATE;
            },
          }
        : {}),
    },
    minIdleTimeout: handshakeTimeout,
    codeToReason,
    logger: quietLogger(),
  });

  // Every handshake that fails ends in acceptConnection, which the library's socket then ignores: count there.
  type Accept = (...a: unknown[]) => Promise<unknown>;
  const accept = (server as unknown as { acceptConnection: Accept }).acceptConnection.bind(server);
  (server as unknown as { acceptConnection: Accept }).acceptConnection = async (...a) => {
    try {
      return await accept(...a);
    } catch (e) {
      const chain = causes(e);
      if (chain.some((c) => c instanceof errors.ErrorQUICConnectionStartTimeout || c instanceof errors.ErrorQUICConnectionIdleTimeout)) stats.tlsTimeouts++;
      else if (clients && chain.some((c) => c instanceof errors.ErrorQUICConnectionLocalTLS)) stats.clientCertRefused++;
      throw e;
    }
  };

  // the listener's one socket, read once it is bound: what it drops while we are behind is our silence, not the peers'
  let socketDrops: (() => number) | undefined;
  const dropped = () => socketDrops?.() ?? 0;

  const onConnection = (conn: QUICConnection) => {
    const remote = quicUrl(conn.remoteHost, conn.remotePort);
    const lock = cheapRecvLock(conn);
    sendLean(conn, server);
    // A connection's errors are its own: log them once, and they go no further (the library closes it).
    let ended = false;
    conn.addEventListener(events.EventQUICConnectionError.name, (e: Event) => {
      if (ended) return;
      ended = true;
      log('debug', `${remote}: ${(e as events.EventQUICConnectionError).detail.message}`);
    });
    let taken = false;
    // the handshake is done; a client that writes nothing on a stream in time is dropped (its keep-alives would
    // otherwise hold the connection open for good)
    const idle = setTimeout(() => {
      stats.sessionTimeouts++;
      log('debug', `${remote}: no stream within ${handshakeTimeout} ms; closing the connection`);
      void conn.stop({ isApp: true, errorCode: NO_STREAM, force: true }).catch(() => {});
    }, handshakeTimeout);
    conn.addEventListener(events.EventQUICConnectionStopped.name, () => clearTimeout(idle), { once: true });
    conn.addEventListener(events.EventQUICConnectionStream.name, (e: Event) => {
      clearTimeout(idle);
      const stream = (e as events.EventQUICConnectionStream).detail;
      if (taken) {
        // only possible once the first stream has ended (the limit is 1 open stream): the connection is done
        log('debug', `${remote}: opened a second stream; closing the connection`);
        queueMicrotask(() => void conn.stop({ isApp: true, errorCode: ONE_STREAM_ONLY, force: true }).catch(() => {}));
        return;
      }
      taken = true;
      const d = duplexOf(stream, conn, remote, () => conn.stop({ isApp: true, errorCode: 0, force: true }), lock, explained(opts.quicIdleTimeout), dropped);
      try {
        onDuplex(d);
      } catch (err) {
        log('error', `${remote}: connection handler failed: ${(err as Error).message}`);
        void d.close();
      }
    });
  };

  server.addEventListener(events.EventQUICServerConnection.name, (evt: Event) => {
    onConnection((evt as events.EventQUICServerConnection).detail);
  });
  server.addEventListener(events.EventQUICServerError.name, (e: Event) =>
    log('warn', `QUIC server on ${quicUrl(host, port)}: ${(e as events.EventQUICServerError).detail.message}`),
  );
  try {
    await server.start({ host, port });
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause;
    throw new Error(`could not listen on ${quicUrl(host, port)}: ${cause?.message ?? (e as Error).message}`, { cause: e });
  }
  widenUdpBuffers(server, log);
  socketDrops = udpDrops(server.port);
  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    stats,
    close: () => (closing ??= server.stop({ isApp: true, errorCode: 0, force: true })),
  };
}

/** The TLS alert a peer closed the connection with, if it did. */
function peerAlert(e: unknown): number | undefined {
  if (!(e instanceof errors.ErrorQUICConnectionPeerTLS || e instanceof errors.ErrorQUICConnectionPeer)) return undefined;
  const code = (e as { data?: { errorCode?: number } }).data?.errorCode;
  return code !== undefined && code >= 0x100 && code <= 0x1ff ? code - 0x100 : undefined;
}

/** A failed dial, or a connection the server closed over TLS later, as the error the caller should see. */
function dialFailure(e: unknown, url: string, timeout: number, refusal: string | undefined, custom: boolean): Error {
  const fail = (why: string) => new Error(`could not connect to ${url}: ${why}`, { cause: e });
  const distrust = (why: string) => new TrustError(`could not connect to ${url}: ${why}`, { cause: e });
  if (refusal) return distrust(refusal);
  if (e instanceof errors.ErrorQUICClientCreateTimeout || e instanceof errors.ErrorQUICConnectionStartTimeout) {
    return new Error(`could not reach ${url} within ${timeout} ms`, { cause: e });
  }
  if (e instanceof errors.ErrorQUICConnectionLocalTLS && !custom) return distrust(SYSTEM_UNTRUSTED);
  const alert = peerAlert(e);
  if (alert !== undefined) {
    if (alert === 120) return fail(`the server does not speak ALPN "${ALPN[0]}"`);
    const ours = clientCertRefused(alert);
    if (ours) return distrust(ours);
    return fail(`the server ended the TLS handshake (${describeAlert(alert)})`);
  }
  const err = e as Error & { cause?: Error };
  return fail(err?.message || err?.cause?.message || err?.constructor?.name || String(e));
}

export interface QuicDialOptions extends ClientTrust, ClientIdentity {
  /** ms to connect (default 5,000) */
  timeout?: number;
  /** gives up connecting at once (Ctrl-C) */
  signal?: AbortSignal;
  /** QUIC's own idle timeout, ms (default 30,000) */
  quicIdleTimeout?: number;
  /** ms between QUIC PINGs on a silent connection (default a third of quicIdleTimeout; 0: none) */
  keepAlive?: number;
}

export async function dialQuicBytes(host: string, port: number, trust: QuicDialOptions): Promise<ByteDuplex> {
  const timeout = trust.timeout ?? 5000;
  const url = quicUrl(host, port);
  // a malformed pin or CA fails here, before any packet
  const verify = serverVerifier(trust);
  const custom = verify !== undefined;
  let refusal: string | undefined;
  let client: QUICClient;
  try {
    client = await QUICClient.createQUICClient(
      {
        host,
        port,
        crypto: {
          ops: {
            async randomBytes(b: ArrayBuffer) {
              randomFillSync(new Uint8Array(b));
            },
          },
        },
        config: {
          ...tuning,
          ...idleConfig(trust.quicIdleTimeout, trust.keepAlive),
          ...datagrams(host),
          // the server never opens streams to us
          initialMaxStreamsBidi: 0,
          ...(trust.cert && trust.key ? { cert: trust.cert, key: trust.key } : {}),
          // certHash, ca or insecure: our verifier decides (quiche then only asks for a certificate); none: the system's CAs
          verifyPeer: true,
          ...(verify
            ? {
                verifyCallback: async (certs: Uint8Array[]) => {
                  refusal = verify(certs, host);
                  return refusal === undefined ? undefined : BAD_CERTIFICATE;
                },
              }
            : {}),
        },
        codeToReason,
        logger: quietLogger(),
      },
      { timer: timeout, signal: trust.signal },
    );
  } catch (e) {
    throw dialFailure(e, url, timeout, refusal, custom);
  }
  widenUdpBuffers(client);
  // In TLS 1.3 the server judges our certificate after we count as connected: its refusal comes as the
  // connection's error, which explains the stream's failure better than the stream can.
  let failure: Error | undefined;
  client.connection.addEventListener(events.EventQUICConnectionError.name, (e: Event) => {
    const err = (e as events.EventQUICConnectionError).detail;
    if (peerAlert(err) !== undefined) failure ??= dialFailure(err, url, timeout, undefined, custom);
  });
  const lock = cheapRecvLock(client.connection);
  sendLean(client.connection, client);
  const stream = client.connection.newStream('bidi');
  return duplexOf(stream, client.connection, url, () => client.destroy({ isApp: true, errorCode: 0, force: true }), lock, explained(trust.quicIdleTimeout, () => failure));
}
