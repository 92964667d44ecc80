import { X509Certificate } from 'node:crypto';
import { isIP, createServer as createTcpServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { normaliseCertHash, type ClientTrust, type ServerTls } from './tls.ts';
import type { ByteDuplex } from './types.ts';

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

/** a client that opens no stream within this long after its session is ready is closed */
const FIRST_STREAM_WAIT = 10_000;
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

export async function listenWebTransportBytes(
  host: string,
  port: number,
  path: string,
  opts: { tls: ServerTls; log?: Log },
  onDuplex: (d: ByteDuplex) => void,
): Promise<WebTransportBytesServer> {
  const lib = await load();
  const log: Log = opts.log ?? (() => {});
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
  try {
    await server.ready;
  } catch (e) {
    throw new Error(`could not listen for webtransport on https://${host}:${port}${path}: ${(e as Error)?.message ?? e}`);
  }
  const bound = server.address()?.port ?? init.port;

  // every HTTP/2 connection, so close() can end the ones whose clients do not leave when asked
  const connections = new Set<Http2Like>();
  for (const h2 of http2ServersOf(server)) {
    h2.updateSettings?.({ initialWindowSize: WINDOW }); // merged into the library's settings for new connections
    h2.on('session', (c: Http2Like) => {
      connections.add(c);
      widenConnectionWindow(c);
      c.once('close', () => connections.delete(c));
      c.on('error', () => {}); // an abrupt peer is that peer's problem
    });
  }

  const live = new Set<WtSession>();
  let closing: Promise<void> | undefined;

  async function accept(session: WtSession): Promise<void> {
    const remote = remoteOf(session.peerAddress);
    live.add(session);
    session.closed.then(
      (info) => log('debug', `${remote}: session closed (${info?.closeCode ?? 0}${info?.reason ? ` ${info.reason}` : ''})`),
      (e: Error) => log('debug', `${remote}: session failed: ${e?.message ?? e}`),
    ).finally(() => live.delete(session));
    const streams = session.incomingBidirectionalStreams.getReader();
    let timer: NodeJS.Timeout | undefined;
    try {
      await session.ready;
      const first = await Promise.race([
        streams.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no stream within ${FIRST_STREAM_WAIT} ms`)), FIRST_STREAM_WAIT);
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
      try {
        session.close({ closeCode: 1, reason: String((e as Error)?.message ?? e).slice(0, 100) });
      } catch {
        /* already gone */
      }
    }
  }

  void (async () => {
    const reader = sessions.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !value) break;
      if (closing) value.close({ closeCode: 0, reason: 'server closing' });
      else void accept(value);
    }
  })().catch((e: Error) => {
    if (!closing) log('warn', `webtransport server on ${host}:${bound} stopped accepting sessions: ${e?.message ?? e}`);
  });

  async function shutdown(): Promise<void> {
    server.stopServer();
    for (const s of live) {
      try {
        s.close({ closeCode: 0, reason: 'server closing' });
      } catch {
        /* gone */
      }
    }
    for (const c of connections) c.close(); // graceful: waits for the streams still open
    await within(server.closed, LINGER);
    for (const c of connections) c.destroy();
    await within(server.closed, LINGER);
  }

  return {
    port: bound,
    protocol: lib.protocol,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

function duplexOf(stream: WtStream, session: WtSession, remote: string, connection: Http2Like | undefined): ByteDuplex {
  let closing: Promise<void> | undefined;
  return {
    readable: stream.readable,
    writable: stream.writable,
    remote,
    close() {
      closing ??= (async () => {
        try {
          session.close({ closeCode: 0, reason: 'done' });
        } catch {
          /* already closed */
        }
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

/** Our verdict on the certificate a connection presents, for the trust modes the library cannot do itself. */
type Check = (socket: TLSSocket, host: string) => string | undefined;

const pemBlocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

function validity(cert: X509Certificate, now = Date.now()): string | undefined {
  if (Date.parse(cert.validFrom) > now) return `certificate "${cert.subject}" is not valid before ${cert.validFrom}`;
  if (Date.parse(cert.validTo) < now) return `certificate "${cert.subject}" expired ${cert.validTo}`;
  return undefined;
}

function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let c = socket.getPeerCertificate(true) as (ReturnType<TLSSocket['getPeerCertificate']> & { issuerCertificate?: unknown }) | undefined;
  const seen = new Set<unknown>();
  while (c?.raw && !seen.has(c) && chain.length < 10) {
    seen.add(c);
    chain.push(new X509Certificate(c.raw));
    c = c.issuerCertificate as typeof c;
  }
  return chain;
}

/** pin: the SHA-256 of exactly this certificate, with WebTransport's rules (valid now, at most 14 days long) */
const pinCheck =
  (pin: string): Check =>
  (socket) => {
    const [leaf] = peerChain(socket);
    if (!leaf) return 'the server sent no certificate';
    const got = leaf.fingerprint256.replace(/:/g, '').toLowerCase();
    if (got !== pin) return `server certificate hash ${got} is not the pinned ${pin}`;
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    if (days > 14)
      return `pinned certificate is valid for ${days.toFixed(1)} days; WebTransport hash pinning accepts at most 14 (use ca instead)`;
    return validity(leaf);
  };

/**
 * ca: the presented chain must lead, by signature, to one of the given certificates, each link currently
 * valid and every intermediate a CA, and the leaf must name the host. A minimal verifier with Node's X509
 * (no revocation, name constraints, path length or key-usage checks), because the library passes no `ca` to TLS.
 * A given certificate that is the leaf itself (a self-signed server certificate used as "CA") is trusted as is.
 */
const caCheck = (caPem: string): Check => {
  const anchors = pemBlocks(caPem).map((p) => new X509Certificate(p));
  if (anchors.length === 0) throw new Error('ca holds no PEM certificate');
  return (socket, host) => {
    const chain = peerChain(socket);
    const leaf = chain[0];
    if (!leaf) return 'the server sent no certificate';
    const named = isIP(host) ? leaf.checkIP(host) : leaf.checkHost(host);
    if (!named) return `certificate "${leaf.subject.replace(/\n/g, ', ')}" (${leaf.subjectAltName ?? 'no subjectAltName'}) is not for ${host}`;
    let cert = leaf;
    for (let depth = 0; depth < 10; depth++) {
      const bad = validity(cert);
      if (bad) return bad;
      if (anchors.some((a) => a.raw.equals(cert.raw))) return undefined;
      const anchor = anchors.find((a) => a.ca && cert.checkIssued(a) && cert.verify(a.publicKey));
      if (anchor) return validity(anchor);
      const next = chain.find((c) => c !== cert && c.ca && cert.checkIssued(c) && cert.verify(c.publicKey));
      if (!next) {
        const tls = socket.authorizationError ? ` (TLS said: ${socket.authorizationError})` : '';
        return `certificate "${cert.subject.replace(/\n/g, ', ')}" is not signed by the given CA${tls}`;
      }
      cert = next;
    }
    return 'certificate chain too long';
  };
};

const insecureCheck: Check = () => undefined;

export async function dialWebTransportBytes(url: string, trust: ClientTrust & { timeout?: number }): Promise<ByteDuplex> {
  const timeout = trust.timeout ?? 5000;
  const fail = (why: string) => new Error(`could not open webtransport session ${url}: ${why}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw fail('not a URL');
  }
  if (u.protocol !== 'https:') throw fail('WebTransport URLs are https://host:port/path');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');

  // trust, most specific first, as the QUIC transport does it
  let check: Check | undefined;
  let pin: string | undefined;
  try {
    if (trust.certHash) check = pinCheck((pin = normaliseCertHash(trust.certHash)));
    else if (trust.ca) check = caCheck(trust.ca);
    else if (trust.insecure) check = insecureCheck;
  } catch (e) {
    throw fail((e as Error).message);
  }

  const lib = await load();
  // Our certificate check lives on the HTTP/2 connection; HTTP/3 (quiche) checks pins itself and knows no CA or
  // insecure. So: HTTP/3 first for pins and system trust when the addon is here, HTTP/2 otherwise. (Untested
  // here, where the addon is missing: with HTTP/3 a pin falls back to HTTP/2 under the library's own check.)
  const http3 = lib.http3 && !(check && !pin);
  const wt = new lib.WebTransport(url, {
    ...flow,
    forceReliable: !http3, // the library's "HTTP/2 only"; without it, it insists on the HTTP/3 addon
    // the library's own deadlines; over HTTP/2 ours (below) comes first and says more than "handshake failed"
    quicConnectTimeout: http3 ? Math.ceil(timeout / 2) : timeout + 1000,
    webTransportConnectTimeout: timeout + 1000,
    // given at all, the library stops Node rejecting the certificate and asks `socket.authorized` (set below)
    ...(pin ? { serverCertificateHashes: [{ algorithm: 'sha-256', value: Buffer.from(pin, 'hex') }] } : check ? { serverCertificateHashes: [] } : {}),
  });
  wt.closed.catch(() => {});

  // The constructor has already called http2.connect(); its TLS handshake cannot have finished yet.
  let refusal: string | undefined;
  let networkError: string | undefined;
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
    connection.on('error', (e: Error) => (networkError ??= e?.message ?? String(e)));
    connection.socket?.prependOnceListener('secureConnect', () => {
      handshook = true;
      const socket = connection.socket!;
      if (!check) return; // system trust: Node has already verified chain and host name
      try {
        refusal = check(socket, host);
      } catch (e) {
        refusal = `could not check the certificate: ${(e as Error).message}`;
      }
      socket.authorized = !refusal; // the library's own handler reads this next and drops the connection if false
    });
  } else if (!http3) {
    wt.close();
    throw fail('@fails-components/webtransport changed inside (no HTTP/2 connection to check the certificate on); update webtransport-bytes.ts');
  }

  const abandon = () => {
    try {
      wt.close();
    } catch {
      /* not open */
    }
    connection?.destroy();
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Error('late');
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late), timeout);
  });
  try {
    await Promise.race([wt.ready, deadline]);
    const stream = await Promise.race([wt.createBidirectionalStream(), deadline]);
    return duplexOf(stream, wt, `webtransport://${u.host}`, connection);
  } catch (e) {
    abandon();
    let why = refusal ?? networkError ?? (e as Error)?.message ?? String(e);
    if (e === late && !refusal && !networkError)
      why = handshook || http3 ? `no session within ${timeout} ms` : `no TLS handshake within ${timeout} ms`;
    else if (!refusal && !networkError && handshook)
      why += ` (TLS was fine, so the server refused the session: is ${u.pathname} its path?)`;
    if (!check && /self[- ]signed|unable to verify|unable to get local issuer/i.test(why))
      why += ' (a server with a self-signed certificate needs certHash, ca, or insecure: true)';
    throw fail(why);
  } finally {
    clearTimeout(timer);
  }
}
