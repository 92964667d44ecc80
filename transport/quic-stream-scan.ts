import type { QUICConnection, QUICStream } from '@matrixai/quic';

interface NativeStreams {
  isReadable(): boolean;
  readable(): Iterable<number>;
  writable(): Iterable<number>;
}

const NONE: readonly number[] = [];

/**
 * After every datagram it receives, @matrixai/quic asks quiche for the connection's readable streams and then
 * its writable ones: two native iterators at ~15 µs each here (measured, one connection, no stream ready), an
 * eighth of a busy listener's thread (400 connections at a fix a second, profiled), while most datagrams carry
 * no stream bytes at all (ACKs, PINGs). So the readable list is only asked for when quiche says something is
 * readable (`isReadable`, 0.15 µs), and the writable list only while a write waits: all the library does with
 * it is wake a write that waits for the peer's flow-control credit. A stream the peer stopped reading is then
 * noticed by the next write instead of by the next datagram; the channel above closes the connection when a
 * write fails anyway.
 */
export function scanStreamsWhenNeeded(conn: QUICConnection, writeWaits: () => boolean): void {
  const native = (conn as unknown as { conn: NativeStreams }).conn;
  const own = Object.getPrototypeOf(native) as NativeStreams;
  native.readable = () => (native.isReadable() ? own.readable.call(native) : NONE);
  native.writable = () => (writeWaits() ? own.writable.call(native) : NONE);
}

/**
 * Whether a write on `stream` waits for the peer's flow-control credit: the library parks such a write on a
 * promise whose resolver it keeps on the stream (`resolveWritableP`) and calls when the stream shows up in the
 * writable list. Watching that field covers every writer, `pipeTo`'s included.
 */
export function writeWaiting(stream: QUICStream): () => boolean {
  let waiting: (() => void) | undefined;
  Object.defineProperty(stream, 'resolveWritableP', {
    configurable: true,
    get: () => waiting,
    set: (resolve?: () => void) => {
      waiting =
        resolve &&
        (() => {
          waiting = undefined;
          resolve();
        });
    },
  });
  return () => waiting !== undefined;
}
