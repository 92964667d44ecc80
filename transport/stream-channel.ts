import { encodeFrame } from '../codecs/frame.ts';
import { FrameDecoder } from '../codecs/frame-decoder.ts';
import type { Frame } from '../codecs/frame-types.ts';
import { ChannelCore } from './channel-core.ts';
import type { ByteDuplex, FrameChannel, FrameHandlers, TransportName } from './types.ts';

export interface StreamChannelOptions {
  maxFrameSize?: number;
  /** frames queued before `drained()` waits (default 64) */
  lowWater?: number;
  /** most bytes joined into one write (default 256 KiB) */
  maxWrite?: number;
}

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

  const fail = (err?: Error) => {
    if (core.done) return;
    writer.abort(err).catch(() => {});
    reader.cancel(err).catch(() => {});
    d.close().catch(() => {});
    core.finish(err);
  };

  async function pump(): Promise<void> {
    while (queue.length > 0 && !core.done) {
      let n = 0;
      let bytes = 0;
      while (n < queue.length && (n === 0 || bytes + queue[n].length <= maxWrite)) bytes += queue[n++].length;
      const parts = queue.splice(0, n);
      const chunk = n === 1 ? parts[0] : Buffer.concat(parts, bytes);
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

  async function readLoop(h: FrameHandlers): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || core.done) break;
        // a read already under way when pause() came still completes: hold its chunk until resume()
        if (pausing) await new Promise<void>((r) => (paused = r));
        for (const frame of decoder.push(value)) {
          if (core.done) return;
          h.frame(frame);
        }
      }
      if (decoder.pending > 0) throw new Error(`stream ended inside a frame (${decoder.pending} bytes left)`);
      core.finish();
      // the peer finished writing: finish ours too, so the connection can close cleanly
      await writer.close().catch(() => {});
      await d.close().catch(() => {});
    } catch (e) {
      fail(e as Error);
    }
  }

  return {
    remote: d.remote,
    transport,
    start(h) {
      core.start(h);
      void readLoop(h);
    },
    send(frame: Frame) {
      if (core.done) return;
      queue.push(encodeFrame(frame));
      queuedFrames++;
      flush();
    },
    get buffered() {
      return queuedFrames;
    },
    drained: () => core.drained(queuedFrames),
    pause() {
      pausing = true;
    },
    resume() {
      pausing = false;
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
      core.finish();
    },
    abort(err?: Error) {
      queue = [];
      fail(err);
    },
  };
}
