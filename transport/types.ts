import type { Frame } from '../codecs/frame-types.ts';
import type { Clock } from './liveness.ts';
import type { ClientIdentity, ClientTrust, ServerTls } from './tls.ts';

/**
 * A bidirectional byte stream as QUIC and WebTransport give it. The byte transports only have to produce one
 * of these; framing, batching and backpressure live once in stream-channel.ts.
 */
export interface ByteDuplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  /** e.g. "quic://127.0.0.1:53122" */
  remote: string;
  /** close the whole underlying connection (after the streams are done or aborted) */
  close(): Promise<void>;
  /** a clearer account of why the stream failed with `cause`, from what the connection knows (e.g. a TLS alert) */
  failure?(cause?: Error): Error | undefined;
  /**
   * `heard` is called for every packet the connection receives from the peer, its transport's own (acks,
   * keep-alives) too, before the stream's bytes are read: all of it proves the peer is there. A transport that
   * has this also acknowledges what it receives with such packets, so the peer hears from us when we read.
   */
  onPacket?(heard: () => void): void;
  /** the transport's latest round trip to the peer, ms, the time each end's event loop takes to answer included */
  rtt?(): number;
  /**
   * Make the peer hear from us without a byte on the stream: a packet of the transport's own that the peer
   * acknowledges (a QUIC PING). Only a transport with `onPacket` has it, since only such a peer counts it as life.
   */
  ping?(): void;
  /** datagrams our end's socket has dropped so far, its receive buffer full (where the system says: udp-drops.ts) */
  dropped?(): number;
}

export interface FrameHandlers {
  frame(frame: Frame): void;
  /** called once, when the channel is gone; `err` is set when it did not end cleanly */
  closed(err?: Error): void;
}

/** A duplex stream of frames: what every transport gives the zipper, the source SDK and the sfn SDK. */
export interface FrameChannel {
  readonly remote: string;
  readonly transport: TransportName;
  /** begin delivering frames; called once */
  start(handlers: FrameHandlers): void;
  /** queue a frame; never blocks. Watch `buffered` and await `drained()` for backpressure */
  send(frame: Frame): void;
  /** frames queued and not yet accepted by the transport */
  readonly buffered: number;
  /** resolves when `buffered` falls to the low-water mark (immediately if it is there) */
  drained(): Promise<void>;
  /** stop/resume delivering incoming frames; the transport's flow control pushes back to the peer */
  pause(): void;
  resume(): void;
  /** flush what is queued, then close */
  close(): Promise<void>;
  /** close at once, dropping what is queued */
  abort(err?: Error): void;
}

export type TransportName = 'quic' | 'webtransport' | 'memory' | 'port';

/** How each end of a network channel tells that its peer is gone (see liveness.ts). */
export interface LivenessSettings {
  /** ms without sending after which a heartbeat goes out (default 500) */
  heartbeat?: number;
  /**
   * ms without receiving anything after which the channel closes (default 1800; 0: never). Must exceed the
   * peer's heartbeat. QUIC's own idle timeout is set to twice this, as a second line.
   */
  idleTimeout?: number;
  /** for tests: the clock the heartbeat and idle timers run on */
  clock?: Clock;
}

export interface ListenOptions extends LivenessSettings {
  tls: ServerTls;
  /** largest frame accepted, bytes (default 16 MiB) */
  maxFrameSize?: number;
  /**
   * ms a new connection has for each step, the TLS handshake, then opening its stream (over WebTransport: its
   * session, then its stream), before it is dropped and counted (default 10,000)
   */
  handshakeTimeout?: number;
  /** PEM of the CA(s) client certificates must chain to: mutual TLS, and a client without one is refused */
  clientCa?: string;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

export interface DialOptions extends ClientTrust, ClientIdentity, LivenessSettings {
  maxFrameSize?: number;
  /** give up connecting after this long (ms) */
  timeout?: number;
  /** gives up connecting at once (Ctrl-C) */
  signal?: AbortSignal;
}

/** What a listener dropped, by kind, since it started: for logs and metrics. */
export interface ListenerStats {
  /** connections that did not finish the TLS handshake within handshakeTimeout */
  tlsTimeouts: number;
  /** connections that finished TLS but opened no stream (over WebTransport: no session, or no stream on it) within handshakeTimeout */
  sessionTimeouts: number;
  /** client certificates refused (mutual TLS), or missing */
  clientCertRefused: number;
  /** channels closed because the peer sent nothing for idleTimeout ms */
  idleTimeouts: number;
}

/** ms a new connection has, by default, for each step before the zipper hears from it (Node's own TLS default is 120 s) */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

export const newListenerStats = (): ListenerStats => ({ tlsTimeouts: 0, sessionTimeouts: 0, clientCertRefused: 0, idleTimeouts: 0 });

export interface Listener {
  /** the address as written in the workflow, with the real port if it was 0 */
  readonly url: string;
  readonly transport: TransportName;
  /** a human note for the banner, e.g. "HTTP/2 (HTTP/3 addon not installed)" */
  readonly detail?: string;
  stats(): ListenerStats;
  close(): Promise<void>;
}

export interface Transport {
  listen(url: URL, opts: ListenOptions, onChannel: (ch: FrameChannel) => void): Promise<Listener>;
  dial(url: URL, opts: DialOptions): Promise<FrameChannel>;
}
