import { FrameError } from '../codecs/frame-error.ts';
import { encodeFrame } from '../codecs/frame.ts';
import { FrameDecoder } from '../codecs/frame-decoder.ts';
import type { Frame } from '../codecs/frame-types.ts';
import { ChannelCore } from './channel-core.ts';
import { DEFAULT_HEARTBEAT, DEFAULT_IDLE_TIMEOUT, Liveness, type Clock } from './liveness.ts';
import type { ByteDuplex, FrameChannel, FrameHandlers, TransportName } from './types.ts';

export interface StreamChannelOptions {
  maxFrameSize?: number;
  /** frames queued before `drained()` waits (default 64) */
  lowWater?: number;
  /** most bytes joined into one write (default 256 KiB) */
  maxWrite?: number;
  /** ms without sending after which a heartbeat goes out (default 500; see liveness.ts) */
  heartbeat?: number;
  /** ms without receiving after which the channel closes with an IdleTimeoutError (default 1800; 0: never) */
  idleTimeout?: number;
  clock?: Clock;
  /** told when the channel ends because the peer went silent */
  onIdle?: () => void;
}

/**
 * The heartbeat: a Ping with id 0, which the channel consumes and never delivers. It asks for no Pong, since
 * any bytes from the peer prove it is there; Pings with other ids are the application's and pass through.
 */
const HEARTBEAT = encodeFrame({ type: 'ping', id: 0 });
const isHeartbeat = (f: Frame) => f.type === 'ping' && f.id === 0;

/**
 * Frames over a byte stream (QUIC, WebTransport). Frames queued while a write is in flight are joined into
 * one write: QUIC through @matrixai/quic runs at a fraction of its speed with small writes, and this is
 * where every byte transport gets batching for free.
 */
export function streamChannel(d: ByteDuplex, transport: TransportName, opts: StreamChannelOptions = {}): FrameChannel {
  const maxWrite = opts.maxWrite ?? 256 * 1024;
  const core = new ChannelCore(opts.lowWater ?? 64);
  const decoder = new FrameDecoder(opts.maxFrameSize);
  const writer = d.writable.getWriter();
  const reader = d.readable.getReader();
  let queue: Uint8Array[] = [];
  let queuedFrames = 0;
  let writing: Promise<void> | null = null;
  let paused: (() => void) | null = null;
  let pausing = false;

  const finish = (err?: Error) => {
    liveness.stop();
    core.finish(err);
  };
  const fail = (err?: Error) => {
    if (core.done) return;
    writer.abort(err).catch(() => {});
    reader.cancel(err).catch(() => {});
    d.close().catch(() => {});
    finish(d.failure?.(err) ?? err);
  };
  const enqueue = (bytes: Uint8Array) => {
    queue.push(bytes);
    queuedFrames++;
    flush();
  };
  const liveness = new Liveness(
    {
      heartbeat: opts.heartbeat ?? DEFAULT_HEARTBEAT,
      idleTimeout: opts.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
      receiptsAnswered: d.onPacket !== undefined,
      // twice the round trip: it may grow further while we wait
      patience: d.rtt && (() => 2 * d.rtt!()),
      ownDrops: d.dropped && (() => d.dropped!()),
      clock: opts.clock,
    },
    {
      heartbeat: () => {
        // a heartbeat behind queued frames would prove nothing more than they will
        if (queuedFrames > 0 || core.done) return;
        // the transport's own ping skips the stream at both ends (writer, frame, reader, decoder): at a fix a
        // second per connection, heartbeats as frames were a fifth of a busy zipper's thread
        if (d.ping) d.ping();
        else enqueue(HEARTBEAT);
      },
      idle: (err) => {
        opts.onIdle?.();
        fail(err);
      },
    },
    () => d.remote,
  );

  async function pump(): Promise<void> {
    while (queue.length > 0 && !core.done) {
      let n = 0;
      let bytes = 0;
      while (n < queue.length && (n === 0 || bytes + queue[n].length <= maxWrite)) bytes += queue[n++].length;
      const parts = queue.splice(0, n);
      const chunk = n === 1 ? parts[0] : Buffer.concat(parts, bytes);
      liveness.sent(); // per write, not per frame: a clock read is not free at a million frames a second
      await writer.write(chunk);
      queuedFrames -= n;
      core.checkDrain(queuedFrames);
    }
  }

  function flush(): void {
    if (writing) return;
    writing = pump()
      .catch((e: Error) => fail(e))
      .finally(() => {
        writing = null;
        if (queue.length > 0 && !core.done) flush();
      });
  }

  d.onPacket?.(() => liveness.received());

  async function readLoop(h: FrameHandlers): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || core.done) break;
        liveness.received();
        // a read already under way when pause() came still completes: hold its chunk until resume()
        if (pausing) await new Promise<void>((r) => (paused = r));
        for (const frame of decoder.push(value)) {
          if (core.done) return;
          if (!isHeartbeat(frame)) h.frame(frame);
        }
      }
      if (decoder.pending > 0) throw new Error(`stream ended inside a frame (${decoder.pending} bytes left)`);
      finish();
      // the peer finished writing: finish ours too, so the connection can close cleanly
      await writer.close().catch(() => {});
      await d.close().catch(() => {});
    } catch (e) {
      // a peer that sent a frame over the limit is told the limit before it goes, so that it stops resending
      // that frame (the frame's bytes are not read, so which frame it was is the peer's to work out)
      if (e instanceof FrameError && e.code === 'too-large' && !core.done) {
        enqueue(encodeFrame({ type: 'goaway', reason: e.message }));
        while (writing) await writing;
      }
      fail(e as Error);
    }
  }

  return {
    remote: d.remote,
    transport,
    start(h) {
      core.start(h);
      liveness.start();
      void readLoop(h);
    },
    send(frame: Frame) {
      if (core.done) return;
      enqueue(encodeFrame(frame));
    },
    get buffered() {
      return queuedFrames;
    },
    drained: () => core.drained(queuedFrames),
    pause() {
      pausing = true;
      liveness.pause();
    },
    resume() {
      pausing = false;
      liveness.resume();
      paused?.();
      paused = null;
    },
    async close() {
      while (writing) await writing;
      if (core.done) return;
      try {
        await writer.close();
      } catch {
        /* the peer may already be gone; closing is best effort */
      }
      await d.close().catch(() => {});
      finish();
    },
    abort(err?: Error) {
      queue = [];
      fail(err);
    },
  };
}
