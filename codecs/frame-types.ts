/**
 * Frames: the small typed structs that travel between sources, the zipper and stream functions.
 * One struct per frame type, one encoder/decoder for all (codecs/frame.ts). Modelled on YoMo's core/frame.
 */

export const PROTOCOL_VERSION = 1;

/** `control`: deploys and lists functions (zipper/control.ts) */
export type ClientKind = 'source' | 'sfn' | 'zipper' | 'control';

export interface HandshakeFrame {
  type: 'handshake';
  /** the source or function name, e.g. "truck-gw-1" or "speeding" */
  name: string;
  kind: ClientKind;
  /** stable for the life of the client process, kept across reconnects: the key of sequence dedup */
  clientId: string;
  token: string;
  /** tag names an sfn observes; empty for sources */
  observe: string[];
  version: number;
}

export interface HandshakeAckFrame {
  type: 'handshake-ack';
  /** the zipper's name, for logs */
  zipper: string;
  /** tag name → number, so clients can speak names */
  tags: Record<string, number>;
  /** the highest sequence number the zipper already holds from this client (resend what is above it) */
  lastSeq: number;
  /** the largest frame the zipper takes, in bytes (0 from a zipper that does not say: the default, 16 MiB) */
  maxFrame: number;
}

export interface RejectedFrame {
  type: 'rejected';
  reason: string;
}

export interface DataFrame {
  type: 'data';
  tag: number;
  /** the writer's frame sequence number: monotone per clientId across reconnects, starts at 1 */
  seq: number;
  /** the writer's clientId, stamped by the zipper when it routes the frame (empty from the writer) */
  from: string;
  /** msgpack-encoded metadata map (see codecs/metadata.ts); kept as bytes so a router need not decode it */
  meta: Uint8Array;
  payload: Uint8Array;
}

export interface GoawayFrame {
  type: 'goaway';
  reason: string;
}

export interface PingFrame {
  type: 'ping';
  id: number;
}

export interface PongFrame {
  type: 'pong';
  id: number;
}

/**
 * Cumulative acknowledgement. Zipper → writer: every Data frame with seq ≤ `seq` is delivered and may leave the
 * spool. Sfn → zipper: the first `seq` Data frames received on this connection are handled.
 */
export interface AckFrame {
  type: 'ack';
  seq: number;
  /**
   * a function's counters as of this ack, from a worker thread of serve's only (port://, never encoded): what
   * the ack says was handled is then counted even if the thread dies next (runtime/module-thread.ts)
   */
  counted?: unknown;
}

export type Frame =
  | HandshakeFrame
  | HandshakeAckFrame
  | RejectedFrame
  | DataFrame
  | GoawayFrame
  | PingFrame
  | PongFrame
  | AckFrame;

export type FrameOf<T extends Frame['type']> = Extract<Frame, { type: T }>;
