import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { normaliseCertHash, type ClientTrust, type ServerTls } from './tls.ts';
import type { ByteDuplex } from './types.ts';

/**
 * WebTransport with @fails-components/webtransport: HTTP/3 when its optional quiche addon is installed,
 * otherwise WebTransport over HTTP/2 (which is what installs offline). One session per client, one
 * bidirectional stream per session, opened by the client.
 */

type WtModule = typeof import('@fails-components/webtransport');
const HTTP3_ADDON = '@fails-components/webtransport-transport-http3-quiche';

/** Windows (bytes). Its HTTP/2 server stalls after 16 KiB unless the initial session window equals its limit. */
const WINDOW = 16 * 1024 * 1024;
const flow = {
  initialStreamFlowControlWindow: WINDOW,
  initialSessionFlowControlWindow: WINDOW,
  streamFlowControlWindowSizeLimit: WINDOW,
  sessionFlowControlWindowSizeLimit: WINDOW,
  streamShouldAutoTuneReceiveWindow: false,
  sessionShouldAutoTuneReceiveWindow: false,
};

let loaded: Promise<{ wt: WtModule; http3: boolean }> | undefined;

/**
 * The library tries to load its HTTP/3 addon as it is imported and prints a stack trace to the console when
 * the addon is missing, which here is the normal case. So look for the addon first, and keep the console
 * quiet while the library finds out for itself.
 */
function load(): Promise<{ wt: WtModule; http3: boolean }> {
  loaded ??= (async () => {
    let http3 = true;
    try {
      import.meta.resolve(HTTP3_ADDON);
    } catch {
      http3 = false;
    }
    const quiet = { log: console.log, error: console.error, warn: console.warn };
    if (!http3) console.log = console.error = console.warn = () => {};
    try {
      const wt = await import('@fails-components/webtransport');
      await wt.quicheLoaded;
      return { wt, http3 };
    } finally {
      Object.assign(console, quiet);
    }
  })();
  return loaded;
}

/** how the server speaks, for the banner */
export async function webTransportProtocol(): Promise<string> {
  return (await load()).http3 ? 'HTTP/3 and HTTP/2' : `HTTP/2 (HTTP/3 addon ${HTTP3_ADDON} not installed)`;
}

export interface WebTransportBytesServer {
  port: number;
  protocol: string;
  close(): Promise<void>;
}

interface WtStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}
interface WtSession {
  ready: Promise<void>;
  closed: Promise<unknown>;
  peerAddress?: string;
  incomingBidirectionalStreams: ReadableStream<WtStream>;
  createBidirectionalStream(): Promise<WtStream>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

export async function listenWebTransportBytes(
  host: string,
  port: number,
  path: string,
  opts: { tls: ServerTls; log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void },
  onDuplex: (d: ByteDuplex) => void,
): Promise<WebTransportBytesServer> {
  const { wt, http3 } = await load();
  const Server = http3 ? wt.HttpServer : wt.Http2Server;
  const server = new Server({ port, host, secret: cryptoSecret(), cert: opts.tls.cert, privKey: opts.tls.key, ...flow } as never) as unknown as {
    startServer(): void;
    stopServer(): void;
    ready: Promise<void>;
    closed: Promise<void>;
    address(): { port: number } | null;
    sessionStream(path: string): ReadableStream<WtSession>;
  };
  const sessions = server.sessionStream(path);
  server.startServer();
  await server.ready;
  const bound = server.address()?.port ?? port;
  void (async () => {
    const reader = sessions.getReader();
    for (;;) {
      const { value: session, done } = await reader.read();
      if (done) break;
      void acceptSession(session, opts.log, onDuplex);
    }
  })().catch((e: Error) => opts.log?.('warn', `WebTransport server stopped accepting: ${e.message}`));
  return {
    port: bound,
    protocol: http3 ? 'HTTP/3 (and HTTP/2)' : `HTTP/2 (HTTP/3 addon ${HTTP3_ADDON} not installed)`,
    async close() {
      server.stopServer();
      await Promise.race([server.closed, new Promise((r) => setTimeout(r, 1000))]);
    },
  };
}

const cryptoSecret = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');

async function acceptSession(session: WtSession, log: ((l: 'debug', m: string) => void) | undefined, onDuplex: (d: ByteDuplex) => void): Promise<void> {
  const remote = `webtransport://${session.peerAddress ?? 'peer'}`;
  try {
    await session.ready;
    const { value: stream } = await session.incomingBidirectionalStreams.getReader().read();
    if (!stream) return;
    onDuplex(duplexOf(stream, session, remote));
  } catch (e) {
    log?.('debug', `${remote}: session failed: ${(e as Error).message}`);
  }
  session.closed.catch(() => {});
}

function duplexOf(stream: WtStream, session: WtSession, remote: string): ByteDuplex {
  return {
    readable: stream.readable,
    writable: stream.writable,
    remote,
    async close() {
      try {
        session.close({ closeCode: 0, reason: 'done' });
      } catch {
        /* already closed */
      }
    },
  };
}

/**
 * The library's HTTP/2 client trusts the system's CAs or a pinned hash, nothing else. For `ca` and
 * `insecure`, a TLS handshake first checks the certificate our way, and the session then pins the exact
 * certificate that passed.
 */
async function pinFor(host: string, port: number, trust: ClientTrust, timeout: number): Promise<string | undefined> {
  if (trust.certHash) return normaliseCertHash(trust.certHash);
  if (!trust.ca && !trust.insecure) return undefined;
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ca: trust.ca, rejectUnauthorized: !trust.insecure, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => sock.destroy(new Error(`no answer within ${timeout} ms`)), timeout);
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = sock.getPeerX509Certificate() as X509Certificate | undefined;
      sock.destroy();
      if (!cert) return reject(new Error('the server sent no certificate'));
      resolve(cert.fingerprint256.replace(/:/g, '').toLowerCase());
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function dialWebTransportBytes(url: string, trust: ClientTrust & { timeout?: number }): Promise<ByteDuplex> {
  const timeout = trust.timeout ?? 5000;
  const u = new URL(url);
  const fail = (why: string) => new Error(`could not open webtransport session ${url}: ${why}`);
  const { wt, http3 } = await load();
  let pin: string | undefined;
  try {
    pin = await pinFor(u.hostname, Number(u.port), trust, timeout);
  } catch (e) {
    throw fail((e as Error).message);
  }
  const session = new wt.WebTransport(url, {
    ...flow,
    forceReliable: !http3,
    ...(pin ? { serverCertificateHashes: [{ algorithm: 'sha-256', value: Buffer.from(pin, 'hex') }] } : {}),
  } as never) as unknown as WtSession;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      session.ready,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no session within ${timeout} ms`)), timeout))),
    ]);
  } catch (e) {
    session.closed.catch(() => {});
    try {
      session.close();
    } catch {
      /* never opened */
    }
    const why = (e as Error)?.message ?? String(e);
    const hint = trust.certHash
      ? ` (is the pinned certificate hash ${pin} the server's?)`
      : pin
        ? ''
        : ' (a zipper with a self-signed certificate needs certHash, ca, or insecure: true)';
    throw fail(why + hint);
  } finally {
    clearTimeout(timer);
  }
  session.closed.catch(() => {});
  const stream = await session.createBidirectionalStream();
  return duplexOf(stream, session, `webtransport://${u.host}`);
}
