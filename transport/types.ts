import type { Frame } from '../codecs/frame-types.ts';
import type { ClientTrust, ServerTls } from './tls.ts';

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

export interface ListenOptions {
  tls: ServerTls;
  /** largest frame accepted, bytes (default 16 MiB) */
  maxFrameSize?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
}

export interface DialOptions extends ClientTrust {
  maxFrameSize?: number;
  /** give up connecting after this long (ms) */
  timeout?: number;
}

export interface Listener {
  /** the address as written in the workflow, with the real port if it was 0 */
  readonly url: string;
  readonly transport: TransportName;
  /** a human note for the banner, e.g. "HTTP/2 (HTTP/3 addon not installed)" */
  readonly detail?: string;
  close(): Promise<void>;
}

export interface Transport {
  listen(url: URL, opts: ListenOptions, onChannel: (ch: FrameChannel) => void): Promise<Listener>;
  dial(url: URL, opts: DialOptions): Promise<FrameChannel>;
}
