import { isIP, createServer as createTcpServer } from 'node:net';
import tlsModule, { checkServerIdentity, type TLSSocket } from 'node:tls';
import { quoted } from '../codecs/control-characters.ts';
import { normaliseCertHash } from './cert-hash.ts';
import type { ClientIdentity, ClientTrust, ServerTls } from './tls.ts';
import { caVerifier, serverVerifier, SYSTEM_UNTRUSTED, TrustError } from './trust.ts';
import { DEFAULT_HANDSHAKE_TIMEOUT, newListenerStats, type ByteDuplex, type ListenerStats } from './types.ts';

/**
 * WebTransport byte streams with @fails-components/webtransport: HTTP/3 when its optional quiche addon loads,
 * otherwise WebTransport over HTTP/2 (which is all that installs offline). Per session the client opens one
 * bidirectional stream right after the session is ready; that stream is the ByteDuplex on both sides.
 *
 * What this file works around in the library (1.6.8), found by reading lib/http2/node/*.js:
 * - Flow control: its HTTP/2 server announces `initialSessionFlowControlWindow` to the client but books
 *   `sessionFlowControlWindowSizeLimit` as granted, so unless the two are equal it never sends a window update
 *   and the stream stalls after the first window (16 KiB by default). We set initial = limit, for the session
 *   and for streams, on both ends. (`*ShouldAutoTuneReceiveWindow` cannot be switched off: it reads `x || true`.)
 * - Trust: its HTTP/2 client takes no CA and has no "insecure" switch. It trusts the system roots, or, when
 *   `serverCertificateHashes` is given, turns off Node's own rejection and decides in a 'secureConnect'
 *   handler by looking at `socket.authorized`. We hand it `serverCertificateHashes` (the real pin, or `[]`)
 *   and put our own 'secureConnect' listener in front of its one, on the actual connection's TLS socket, that
 *   sets `socket.authorized` from our verdict. So `ca`, `insecure` and pins are all judged on the certificate
 *   this very connection presents, before the session is even asked for. (Left alone, its pin check also lets
 *   any certificate that chains to a system root through, for any host name, whatever its hash.)
 * - Server close: its `stopServer()` only stops listening ("TODO call close on all sessions"), so Node's HTTP/2
 *   server never emits 'close' while clients are connected. We close the sessions, then their connections.
 */

const HTTP3_ADDON = '@fails-components/webtransport-transport-http3-quiche';

/**
 * Flow-control windows (bytes), as the QUIC transport's stream window. Initial must equal limit, see above. It is
 * also the most a peer can have buffered here per session; on loopback 1, 4 and 16 MiB moved data equally fast,
 * over a 50 ms round trip a window allows at most window/RTT (16 MiB: ~335 MB/s, 4 MiB: ~84 MB/s).
 */
const WINDOW = 16 * 1024 * 1024;
const flow = {
  initialStreamFlowControlWindow: WINDOW,
  streamFlowControlWindowSizeLimit: WINDOW,
  initialSessionFlowControlWindow: WINDOW,
  sessionFlowControlWindowSizeLimit: WINDOW,
};

/**
 * HTTP/2's own flow control sits under WebTransport's, on the one HTTP/2 stream that carries the session, and
 * the library leaves it at the protocol default of 64 KiB. That caps a session at 64 KiB per round trip:
 * measured through a proxy adding latency, 3.2 MB/s at 20 ms RTT and 0.7 MB/s at 50 ms. So both ends announce
 * the same window as WebTransport's, for the stream (SETTINGS_INITIAL_WINDOW_SIZE) and the connection.
 */
function widenConnectionWindow(c: Http2Like): void {
  try {
    c.setLocalWindowSize(WINDOW);
  } catch {
    /* closing already */
  }
}

/** the WebTransport session close code for "your client certificate is refused"; the reason says why */
const CLIENT_CERT_REFUSED = 0x4743; // "GC"
/** how long close() waits for a clean goodbye before it cuts the connection */
const LINGER = 1000;

// --- the parts of the library we use (its own typings are loose and partly `any`) ---------------------------

interface WtStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}
interface WtCloseInfo {
  closeCode?: number;
  reason?: string;
}
interface WtSession {
  ready: Promise<unknown>;
  closed: Promise<WtCloseInfo>;
  readonly peerAddress?: string;
  readonly state?: string;
  incomingBidirectionalStreams: ReadableStream<WtStream>;
  createBidirectionalStream(): Promise<WtStream>;
  close(info?: WtCloseInfo): void;
}
interface WtServer {
  startServer(): void;
  stopServer(): void;
  ready: Promise<unknown>;
  closed: Promise<unknown>;
  address(): { port: number } | null;
  sessionStream(path: string): ReadableStream<WtSession>;
}
interface Http2Like {
  closed?: boolean;
  destroyed?: boolean;
  settings(s: { initialWindowSize?: number }): void;
  setLocalWindowSize(n: number): void;
  updateSettings?(s: { initialWindowSize?: number }): void;
  close(cb?: () => void): void;
  destroy(err?: Error): void;
  on(ev: string, fn: (...a: never[]) => void): unknown;
  once(ev: string, fn: (...a: never[]) => void): unknown;
  socket?: TLSSocket;
}
interface Lib {
  WebTransport: new (url: string, opts: object) => WtSession;
  HttpServer: new (opts: object) => WtServer;
  Http2Server: new (opts: object) => WtServer;
  http3: boolean;
  /** e.g. "HTTP/2 (HTTP/3 addon … not installed)" */
  protocol: string;
}

/** the library's HTTP/2 client connection behind a client session (internal: HttpClient.transportInt.clientInt) */
const clientConnectionOf = (wt: WtSession): Http2Like | undefined =>
  (wt as unknown as { sessionint?: { parentobj?: { transportInt?: { clientInt?: Http2Like } } } }).sessionint?.parentobj
    ?.transportInt?.clientInt;

/** the node:http2 server(s) behind an HttpServer (internal: transportInt.serverInt, or a proxy over several) */
function http2ServersOf(server: WtServer): Http2Like[] {
  const t = (server as unknown as { transportInt?: { serverInt?: Http2Like; transportsInts?: Set<{ serverInt?: Http2Like }> } })
    .transportInt;
  const all = t?.transportsInts ? [...t.transportsInts] : t ? [t] : [];
  return all.map((x) => x.serverInt).filter((s): s is Http2Like => !!s && typeof s.on === 'function');
}

/**
 * Closes a session once. The library's close() keeps no state until the close is done, and a second call
 * before then (our duplex closing as the server shuts down, say) spins forever in its HTTP/2 layer.
 */
const closedSessions = new WeakSet<WtSession>();
function closeSession(session: WtSession, info: WtCloseInfo = {}): void {
  if (closedSessions.has(session)) return;
  closedSessions.add(session);
  try {
    session.close(info);
  } catch {
    /* not open, or gone */
  }
}

// --- loading ----------------------------------------------------------------------------------------------------

let loading: Promise<Lib> | undefined;

/**
 * Loads the library once. On import it tries to load the HTTP/3 addon itself and, when that is missing, prints
 * a stack trace and "Did you install …?" through console.log/console.error. Here that is the normal case, so we
 * find out about the addon ourselves and drop exactly those lines while the library finds out too.
 */
function load(): Promise<Lib> {
  loading ??= (async () => {
    let http3 = false;
    let why = `HTTP/3 addon ${HTTP3_ADDON} not installed`;
    try {
      const spec: string = HTTP3_ADDON; // not installed here: keep TypeScript from resolving it
      await import(spec);
      http3 = true;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err?.code !== 'ERR_MODULE_NOT_FOUND') why = `HTTP/3 addon ${HTTP3_ADDON} failed to load: ${err?.message ?? err}`;
    }
    const noise = /^(http3 loader:|Problem loading http3-quiche|Did you install @fails-components)/;
    const { log, error } = console;
    const quiet =
      (orig: (...a: unknown[]) => void) =>
      (...a: unknown[]) => {
        if (!(typeof a[0] === 'string' && noise.test(a[0]))) orig.apply(console, a);
      };
    if (!http3) {
      console.log = quiet(log);
      console.error = quiet(error);
    }
    try {
      const mod = (await import('@fails-components/webtransport')) as unknown as Omit<Lib, 'http3' | 'protocol'> & {
        quicheLoaded: Promise<unknown>;
      };
      await mod.quicheLoaded;
      // the server module's own attempt settles on its own schedule; give it a turn of the event loop
      await new Promise((r) => setImmediate(r));
      return {
        WebTransport: mod.WebTransport,
        HttpServer: mod.HttpServer,
        Http2Server: mod.Http2Server,
        http3,
        protocol: http3 ? 'HTTP/3 (HTTP/2 beside it on the same TCP port)' : `HTTP/2 (${why})`,
      };
    } finally {
      if (console.log !== log) console.log = log;
      if (console.error !== error) console.error = error;
    }
  })();
  return loading;
}

// --- server -----------------------------------------------------------------------------------------------------

export interface WebTransportBytesServer {
  port: number;
  /** what it dropped; `idleTimeouts` is the frame channels' to count (webtransport.ts) */
  readonly stats: ListenerStats;
  /** 'HTTP/3' | 'HTTP/2' plus why, e.g. "HTTP/2 (HTTP/3 addon @fails-components/webtransport-transport-http3-quiche not installed)" */
  protocol: string;
  close(): Promise<void>;
}

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;

/** "127.0.0.1:53122" → "webtransport://127.0.0.1:53122", "::1:53122" → "webtransport://[::1]:53122" */
function remoteOf(peer: string | undefined): string {
  const m = /^(.*):(\d+)$/.exec(peer ?? '');
  if (!m || !isIP(m[1])) return 'webtransport://peer';
  return `webtransport://${isIP(m[1]) === 6 ? `[${m[1]}]` : m[1]}:${m[2]}`;
}

/** resolves with `p`, or with undefined after `ms` (and never rejects) */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** With HTTP/3 the same port is bound twice (UDP and TCP); for port 0 we need one number free for both. */
async function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createTcpServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface WebTransportListenOptions {
  tls: ServerTls;
  /** ms for each step of a new connection: TLS, then the session, then its stream (default 10,000) */
  handshakeTimeout?: number;
  /** mutual TLS: client certificates must chain to these CA(s) (PEM) */
  clientCa?: string;
  log?: Log;
}

/** node:http2's secure server as far as we set it up (it is a tls.Server) */
interface TlsServerLike {
  requestCert: boolean;
  rejectUnauthorized: boolean;
  setSecureContext(o: { key: string; cert: string; ca: string }): void;
  on(ev: string, fn: (...a: never[]) => void): unknown;
}

/**
 * Node reads a TLS server's handshake timeout from a symbol-keyed field on each new connection; there is no
 * setter after construction, and the library constructs the server without ours.
 */
function setTlsHandshakeTimeout(server: object, ms: number, log: Log): void {
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'handshake-timeout');
  if (key) (server as Record<symbol, number>)[key] = ms;
  else log('warn', `webtransport: cannot set the TLS handshake timeout on this Node (${process.version}); it stays at Node's 120 s`);
}

export async function listenWebTransportBytes(
  host: string,
  port: number,
  path: string,
  opts: WebTransportListenOptions,
  onDuplex: (d: ByteDuplex) => void,
): Promise<WebTransportBytesServer> {
  const lib = await load();
  const log: Log = opts.log ?? (() => {});
  const stats = newListenerStats();
  const handshakeTimeout = opts.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const clients = opts.clientCa ? caVerifier(opts.clientCa, 'client') : undefined;
  let bound = port;
  const where = () => `webtransport on ${host}:${bound}`;
  const init = {
    host,
    port: lib.http3 && port === 0 ? await freeTcpPort(host) : port,
    secret: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex'), // QUIC retry tokens; unused by HTTP/2
    cert: opts.tls.cert,
    privKey: opts.tls.key,
    ...flow,
  };
  // HttpServer on its own is HTTP/3 only: 'both' adds the HTTP/2 server on the same port (TCP) for fallback
  const server = lib.http3 ? new lib.HttpServer({ ...init, reliability: 'both' }) : new lib.Http2Server(init);
  const sessions = server.sessionStream(path); // other paths: the library answers 404
  server.startServer();

  // every HTTP/2 connection, so close() can end the ones whose clients do not leave when asked
  const connections = new Set<Http2Like>();
  /** mutual TLS: what our verifier said of each connection's client certificate (null: trusted), by peer address */
  const verdicts = new Map<string, string | null>();
  // startServer() made the node:http2 server(s) and asked to listen: set them up before the first connection
  for (const h2 of http2ServersOf(server)) {
    const tls = h2 as unknown as TlsServerLike;
    setTlsHandshakeTimeout(tls, handshakeTimeout, log);
    if (clients && opts.clientCa) {
      // Node asks for a client certificate but rejects none itself (rejecting, it only ever drops the connection,
      // with no alert for a certificate it could not verify): our verifier judges it, and a refused client is told
      // why on its session (see accept), then let go
      tls.setSecureContext({ key: opts.tls.key, cert: opts.tls.cert, ca: opts.clientCa });
      tls.requestCert = true;
      tls.rejectUnauthorized = false;
    }
    if (clients) {
      tls.on('secureConnection', (socket: TLSSocket) => {
        const key = `${socket.remoteAddress}:${socket.remotePort}`;
        verdicts.set(key, clients(peerChainDer(socket)) ?? null);
        socket.once('close', () => verdicts.delete(key));
      });
    }
    tls.on('tlsClientError', (err: NodeJS.ErrnoException & { reason?: string }) => {
      const why = err.reason ?? err.message; // OpenSSL's reason without its file and line
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') stats.tlsTimeouts++;
      else log('debug', `${where()}: TLS handshake failed: ${why}`);
    });
    h2.updateSettings?.({ initialWindowSize: WINDOW }); // merged into the library's settings for new connections
    h2.on('session', (c: Http2Like) => {
      connections.add(c);
      widenConnectionWindow(c);
      // TLS is done; a connection that asks for no session in time is dropped
      const idle = setTimeout(() => {
        stats.sessionTimeouts++;
        log('debug', `${where()}: no session requested within ${handshakeTimeout} ms; closing the connection`);
        c.destroy();
      }, handshakeTimeout);
      c.once('stream', () => clearTimeout(idle));
      c.once('close', () => {
        clearTimeout(idle);
        connections.delete(c);
      });
      c.on('error', () => {}); // an abrupt peer is that peer's problem
    });
  }
  try {
    await server.ready;
  } catch (e) {
    throw new Error(`could not listen for webtransport on https://${host}:${port}${path}: ${(e as Error)?.message ?? e}`);
  }
  bound = server.address()?.port ?? init.port;

  const live = new Set<WtSession>();
  let closing: Promise<void> | undefined;

  async function accept(session: WtSession): Promise<void> {
    const remote = remoteOf(session.peerAddress);
    live.add(session);
    session.closed.then(
      // quoted: the reason is the peer's own text
      (info) => log('debug', `${remote}: session closed (${info?.closeCode ?? 0}${info?.reason ? ` ${quoted(info.reason)}` : ''})`),
      (e: Error) => log('debug', `${remote}: session failed: ${e?.message ?? e}`),
    ).finally(() => live.delete(session));
    const streams = session.incomingBidirectionalStreams.getReader();
    let timer: NodeJS.Timeout | undefined;
    try {
      await session.ready;
      if (clients) {
        const verdict = verdicts.get(session.peerAddress ?? '');
        const refusal = verdict === undefined ? 'its TLS connection is unknown' : verdict;
        if (refusal !== null) {
          stats.clientCertRefused++;
          log('info', `${where()}: refused the client certificate of ${remote}: ${refusal}`);
          closeSession(session, { closeCode: CLIENT_CERT_REFUSED, reason: refusal.slice(0, 1000) });
          return;
        }
      }
      const first = await Promise.race([
        streams.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            stats.sessionTimeouts++;
            reject(new Error(`no stream within ${handshakeTimeout} ms`));
          }, handshakeTimeout);
        }),
      ]);
      clearTimeout(timer);
      if (first.done || !first.value) return; // the session went before it opened a stream
      log('debug', `${remote}: session on ${path}`);
      try {
        onDuplex(duplexOf(first.value, session, remote, undefined));
      } catch (e) {
        log('warn', `${remote}: the session handler threw: ${(e as Error)?.message ?? e}`);
        throw e;
      }
      // one stream per session: refuse any more
      for (;;) {
        const more = await streams.read();
        if (more.done) break;
        log('debug', `${remote}: refused a second stream (one per session)`);
        more.value.readable.cancel().catch(() => {});
        more.value.writable.abort().catch(() => {});
      }
    } catch (e) {
      clearTimeout(timer);
      log('debug', `${remote}: ${(e as Error)?.message ?? e}`);
      closeSession(session, { closeCode: 1, reason: String((e as Error)?.message ?? e).slice(0, 100) });
    }
  }

  void (async () => {
    const reader = sessions.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !value) break;
      if (closing) closeSession(value, { closeCode: 0, reason: 'server closing' });
      else void accept(value);
    }
  })().catch((e: Error) => {
    if (!closing) log('warn', `webtransport server on ${host}:${bound} stopped accepting sessions: ${e?.message ?? e}`);
  });

  async function shutdown(): Promise<void> {
    server.stopServer();
    for (const s of live) closeSession(s, { closeCode: 0, reason: 'server closing' });
    for (const c of connections) c.close(); // graceful: waits for the streams still open
    await within(server.closed, LINGER);
    for (const c of connections) c.destroy();
    await within(server.closed, LINGER);
  }

  return {
    port: bound,
    protocol: lib.protocol,
    stats,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/**
 * The reason in the library's error for a stream of a session the server closed as refusing our client
 * certificate ("Session closed (on process N) with code C and reason R"). The stream fails before the
 * session's `closed` settles, so this is where the reason is to be had in time.
 */
function refusalIn(message: string): string | undefined {
  const m = /with code (\d+) and reason ([\s\S]*)$/.exec(message);
  return m && Number(m[1]) === CLIENT_CERT_REFUSED ? m[2] : undefined;
}

function duplexOf(stream: WtStream, session: WtSession, remote: string, connection: Http2Like | undefined, failure?: ByteDuplex['failure']): ByteDuplex {
  let closing: Promise<void> | undefined;
  return {
    readable: stream.readable,
    writable: stream.writable,
    remote,
    failure,
    close() {
      closing ??= (async () => {
        closeSession(session, { closeCode: 0, reason: 'done' });
        await within(session.closed, LINGER);
        // client side: the library closes the connection when the session ends; make sure of it
        if (connection && !connection.destroyed) {
          connection.close();
          if (!(await within(new Promise<void>((r) => connection.once('close', () => r())), LINGER / 2)) && !connection.destroyed)
            connection.destroy();
        }
      })();
      return closing;
    },
  };
}

// --- client -----------------------------------------------------------------------------------------------------

/** The chain a TLS peer sent, leaf first, DER (Node links it by `issuerCertificate`; a self-signed one links to itself). */
function peerChainDer(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  type Linked = ReturnType<TLSSocket['getPeerCertificate']> & { issuerCertificate?: Linked };
  let c = socket.getPeerCertificate(true) as Linked | undefined;
  const seen = new Set<unknown>();
  while (c?.raw && !seen.has(c)) {
    seen.add(c);
    chain.push(new Uint8Array(c.raw));
    c = c.issuerCertificate;
  }
  return chain;
}

/**
 * node:http2 (Node 20) can destroy a client session over a socket error that comes after the handshake (a
 * TLS alert, say) without ever emitting 'close'. The library's once-a-second ping then throws on that session,
 * uncaught. So we give it the 'close' it waits for, which also stops its timer.
 */
function emitMissingClose(c: Http2Like, socket: TLSSocket): void {
  let closed = false;
  c.once('close', () => (closed = true));
  setImmediate(() => {
    if (closed || !c.destroyed) return;
    socket.destroy();
    (c as unknown as { emit(ev: string): void }).emit('close');
  });
}

/** Our verdict on the certificate a connection presents: undefined when it is trusted. */
type Check = (socket: TLSSocket, host: string) => string | undefined;

/** No certHash, ca or insecure: the system's CAs, as Node checked them, and the host name. */
const systemCheck: Check = (socket, host) => {
  if (!socket.authorized) return `${SYSTEM_UNTRUSTED} (TLS: ${socket.authorizationError})`;
  return checkServerIdentity(host, socket.getPeerCertificate())?.message;
};

/**
 * Our TLS socket for the library's HTTP/2 connection, with our client certificate when there is one. The
 * library calls node:http2's connect() inside the WebTransport constructor without a way to pass one, and
 * connect() calls tls.connect(): for that one synchronous constructor call, tls.connect adds ours.
 */
function withClientCertificate<T>(id: ClientIdentity, construct: () => T): T {
  if (!id.cert || !id.key) return construct();
  // the module object node:http2 itself calls through (an ESM namespace could not be patched)
  const api = tlsModule as unknown as { connect: (...a: unknown[]) => unknown };
  const original = api.connect;
  api.connect = (...a: unknown[]) => {
    const at = a.findIndex((x) => typeof x === 'object' && x !== null);
    if (at >= 0) a[at] = { ...(a[at] as object), cert: id.cert, key: id.key };
    return original.apply(tlsModule, a);
  };
  try {
    return construct();
  } finally {
    api.connect = original;
  }
}

export interface WebTransportDialOptions extends ClientTrust, ClientIdentity {
  /** ms to connect (default 5,000) */
  timeout?: number;
}

export async function dialWebTransportBytes(url: string, trust: WebTransportDialOptions): Promise<ByteDuplex> {
  const timeout = trust.timeout ?? 5000;
  const fail = (why: string) => new Error(`could not open webtransport session ${url}: ${why}`);
  const distrust = (why: string) => new TrustError(`could not open webtransport session ${url}: ${why}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw fail('not a URL');
  }
  if (u.protocol !== 'https:') throw fail('WebTransport URLs are https://host:port/path');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');

  // a malformed pin or CA fails here, before any packet
  const verify = serverVerifier(trust);
  const pin = trust.certHash ? normaliseCertHash(trust.certHash) : undefined;
  const check: Check = verify ? (socket, h) => verify(peerChainDer(socket), h) : systemCheck;

  const lib = await load();
  // Our certificate check lives on the HTTP/2 connection; HTTP/3 (quiche) checks pins itself and knows no CA or
  // insecure. So: HTTP/3 first for pins and system trust when the addon is here, HTTP/2 otherwise. (Untested
  // here, where the addon is missing: with HTTP/3 a pin falls back to HTTP/2 under the library's own check.)
  const http3 = lib.http3 && (!verify || pin !== undefined);
  const wt = withClientCertificate(
    trust,
    () =>
      new lib.WebTransport(url, {
        ...flow,
        forceReliable: !http3, // the library's "HTTP/2 only"; without it, it insists on the HTTP/3 addon
        // the library's own deadlines; over HTTP/2 ours (below) comes first and says more than "handshake failed"
        quicConnectTimeout: http3 ? Math.ceil(timeout / 2) : timeout + 1000,
        webTransportConnectTimeout: timeout + 1000,
        // given at all, the library stops Node rejecting the certificate and asks `socket.authorized` (set below);
        // over HTTP/3 (a pin or the system's CAs only) quiche checks a pin itself
        ...(pin ? { serverCertificateHashes: [{ algorithm: 'sha-256', value: Buffer.from(pin, 'hex') }] } : http3 ? {} : { serverCertificateHashes: [] }),
      }),
  );
  wt.closed.catch(() => {});
  // a zipper that requires client certificates and refuses ours says why as it closes the session
  const certRefused = (why: string) => distrust(`the zipper refused our client certificate: ${why}`);

  // The constructor has already called http2.connect(); its TLS handshake cannot have finished yet.
  let failed: (e: Error) => void = () => {};
  const socketFailure = new Promise<never>((_, reject) => (failed = reject));
  socketFailure.catch(() => {});
  let refusal: string | undefined;
  let networkError: (Error & { code?: string }) | undefined;
  let handshook = false;
  const connection = http3 ? undefined : clientConnectionOf(wt);
  if (connection) {
    connection.once('connect', () => {
      // 'connect' also comes for a connection the library has just dropped over its certificate
      if (connection.destroyed) return;
      try {
        connection.settings({ initialWindowSize: WINDOW });
      } catch {
        /* closing already */
      }
      widenConnectionWindow(connection);
    });
    connection.on('error', (e: Error) => (networkError ??= e));
    // a TLS alert after our side of the handshake (the server refusing our certificate) reaches the socket only
    connection.socket?.on('error', function (this: TLSSocket, e: Error) {
      networkError ??= e;
      failed(e);
      emitMissingClose(connection, this); // `this`: the socket itself, not http2's guarded proxy of it
    });
    connection.socket?.prependOnceListener('secureConnect', () => {
      handshook = true;
      const socket = connection.socket!;
      refusal = check(socket, host);
      socket.authorized = !refusal; // the library's own handler reads this next and drops the connection if false
    });
  } else if (!http3) {
    closeSession(wt);
    throw fail('@fails-components/webtransport changed inside (no HTTP/2 connection to check the certificate on); update webtransport-bytes.ts');
  }

  const abandon = () => {
    closeSession(wt);
    connection?.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Error('late');
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late), timeout);
  });
  try {
    await Promise.race([wt.ready, deadline, socketFailure]);
    const stream = await Promise.race([wt.createBidirectionalStream(), deadline, socketFailure]);
    return duplexOf(stream, wt, `webtransport://${u.host}`, connection, (cause) => {
      const why = cause && refusalIn(cause.message);
      return why === undefined ? undefined : certRefused(why);
    });
  } catch (e) {
    const closed = await within(wt.closed, 0); // settled by now if the server closed the session
    abandon();
    if (refusal) throw distrust(refusal);
    if (closed?.closeCode === CLIENT_CERT_REFUSED) throw certRefused(closed.reason ?? '');
    let why = networkError?.message ?? (e as Error)?.message ?? String(e);
    if (e === late && !networkError) why = handshook || http3 ? `no session within ${timeout} ms` : `no TLS handshake within ${timeout} ms`;
    else if (!networkError && handshook) why += ` (TLS was fine, so the server refused the session: is ${u.pathname} its path?)`;
    throw fail(why);
  } finally {
    clearTimeout(timer);
  }
}
