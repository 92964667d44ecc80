import { describe, expect, it } from 'vitest';
import type { Frame } from '../codecs/frame-types.ts';
import { streamChannel } from './stream-channel.ts';
import type { ByteDuplex } from './types.ts';

/** Two byte duplexes joined back to back in memory: a unit test of the framing layer, not of a transport. */
function pipePair(): [ByteDuplex & { writes: number[] }, ByteDuplex] {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const writes: number[] = [];
  const counted = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, c) {
      writes.push(chunk.length);
      c.enqueue(chunk);
    },
  });
  void counted.readable.pipeTo(ab.writable).catch(() => {});
  const close = async () => {};
  return [
    { readable: ba.readable, writable: counted.writable, remote: 'a', close, writes },
    { readable: ab.readable, writable: ba.writable, remote: 'b', close },
  ];
}

const data = (seq: number): Frame => ({ type: 'data', tag: 16, seq, from: '', meta: new Uint8Array(0), payload: new Uint8Array(40) });

describe('streamChannel', () => {
  it('joins frames sent in one turn into few writes, and delivers them all in order', async () => {
    const [a, b] = pipePair();
    const ca = streamChannel(a, 'quic');
    const cb = streamChannel(b, 'quic');
    const got: number[] = [];
    cb.start({ frame: (f) => f.type === 'data' && got.push(f.seq), closed: () => {} });
    ca.start({ frame: () => {}, closed: () => {} });
    for (let i = 1; i <= 1000; i++) ca.send(data(i));
    expect(ca.buffered).toBe(1000);
    await ca.drained();
    while (got.length < 1000) await new Promise((r) => setTimeout(r, 1));
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(a.writes.length).toBeLessThan(20);
    expect(Math.min(...a.writes.slice(1))).toBeGreaterThanOrEqual(1024);
  });

  it('closes with a FrameError when the peer sends garbage', async () => {
    const [a, b] = pipePair();
    const cb = streamChannel(b, 'quic');
    const closed = new Promise<Error | undefined>((resolve) => cb.start({ frame: () => {}, closed: resolve }));
    const w = a.writable.getWriter();
    await w.write(Uint8Array.of(0xff, 1, 2, 3));
    const err = await closed;
    expect(err?.name).toBe('FrameError');
    expect(err?.message).toMatch(/unknown frame type 0xff/);
  });

  it('stops reading while paused', async () => {
    const [a, b] = pipePair();
    const ca = streamChannel(a, 'quic');
    const cb = streamChannel(b, 'quic');
    let n = 0;
    cb.start({ frame: () => n++, closed: () => {} });
    ca.start({ frame: () => {}, closed: () => {} });
    ca.send(data(1));
    while (n < 1) await new Promise((r) => setTimeout(r, 1));
    cb.pause();
    await new Promise((r) => setTimeout(r, 5));
    ca.send(data(2));
    await new Promise((r) => setTimeout(r, 20));
    expect(n).toBe(1);
    cb.resume();
    while (n < 2) await new Promise((r) => setTimeout(r, 1));
  });
});
