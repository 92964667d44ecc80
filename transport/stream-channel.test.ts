import { describe, expect, it } from 'vitest';
import type { Frame } from '../codecs/frame-types.ts';
import { DEFAULT_IDLE_TIMEOUT, IdleTimeoutError } from './liveness.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { streamChannel } from './stream-channel.ts';
import type { ByteDuplex, FrameChannel } from './types.ts';

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

const data = (seq: number, bytes = 40): Frame => ({ type: 'data', tag: 16, seq, from: '', meta: new Uint8Array(0), payload: new Uint8Array(bytes) });

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

/** lets the streams between the two ends move what is queued */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** `ms` of manual time in 100 ms steps, letting the bytes flow at each step */
async function run(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    await settle();
  }
}

function started(ch: FrameChannel) {
  const frames: Frame[] = [];
  const closed: { err?: Error; done: boolean } = { done: false };
  ch.start({ frame: (f) => frames.push(f), closed: (err) => Object.assign(closed, { err, done: true }) });
  return { frames, closed };
}

describe('streamChannel heartbeat and idle timeout', () => {
  it('closes with an IdleTimeoutError when the peer falls silent, and says so to onIdle', async () => {
    const clock = new ManualClock();
    const [a] = pipePair(); // the other end never starts: it sends nothing, heartbeats included
    let idled = 0;
    const ca = started(streamChannel(a, 'quic', { clock, onIdle: () => idled++ }));
    await run(clock, DEFAULT_IDLE_TIMEOUT - 100);
    expect(ca.closed.done).toBe(false);
    await run(clock, 200);
    expect(ca.closed.done).toBe(true);
    expect(ca.closed.err).toBeInstanceOf(IdleTimeoutError);
    expect(ca.closed.err?.message).toBe(`no data from a for ${DEFAULT_IDLE_TIMEOUT} ms`);
    expect(idled).toBe(1);
  });

  it('keeps two quiet ends open on heartbeats alone, which it never delivers', async () => {
    const clock = new ManualClock();
    const [a, b] = pipePair();
    const ca = started(streamChannel(a, 'quic', { clock }));
    const cb = started(streamChannel(b, 'quic', { clock }));
    await run(clock, 10_000);
    expect([ca.closed.done, cb.closed.done]).toEqual([false, false]);
    expect([ca.frames, cb.frames]).toEqual([[], []]);
  });

  it("counts the transport's own packets as life, though the stream brings nothing", async () => {
    const clock = new ManualClock();
    const [a] = pipePair(); // the other end never starts: no bytes on the stream
    let heard = () => {};
    const ca = started(streamChannel({ ...a, onPacket: (h) => (heard = h) }, 'quic', { clock }));
    for (let t = 0; t < 5000; t += 500) {
      await run(clock, 500);
      heard(); // an ACK, say
    }
    expect(ca.closed.done).toBe(false);
    await run(clock, 2000);
    expect(ca.closed.err).toBeInstanceOf(IdleTimeoutError);
  });

  it("sends its heartbeats as the transport's own pings where it has them, not as frames on the stream", async () => {
    const clock = new ManualClock();
    const [a] = pipePair();
    let pings = 0;
    const ca = started(streamChannel({ ...a, onPacket: () => {}, ping: () => pings++ }, 'quic', { clock, heartbeat: 500, idleTimeout: 0 }));
    await run(clock, 2600);
    expect(pings).toBe(5);
    expect(a.writes).toEqual([]);
    expect(ca.closed.done).toBe(false);
  });

  it("delivers the application's own pings", async () => {
    const clock = new ManualClock();
    const [a, b] = pipePair();
    const chA = streamChannel(a, 'quic', { clock });
    started(chA);
    const cb = started(streamChannel(b, 'quic', { clock }));
    chA.send({ type: 'ping', id: 7 });
    await run(clock, 1000);
    expect(cb.frames).toEqual([{ type: 'ping', id: 7 }]);
  });

  it('a paused reader does not blame its writer, and its heartbeats keep the writer from blaming it', async () => {
    const clock = new ManualClock();
    const [a, b] = pipePair();
    const writer = streamChannel(a, 'quic', { clock });
    const reader = streamChannel(b, 'quic', { clock });
    const cw = started(writer);
    const cr = started(reader);
    reader.pause();
    for (let i = 1; i <= 200; i++) writer.send(data(i, 16 * 1024));
    await run(clock, 10_000);
    expect([cw.closed.done, cr.closed.done]).toEqual([false, false]);
    expect(writer.buffered).toBeGreaterThan(0); // held back: the reader really is not reading
    reader.resume();
    while (cr.frames.length < 200) await run(clock, 100);
    expect(cr.frames.map((f) => (f as { seq: number }).seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});
