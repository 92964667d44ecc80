import { MessageChannel } from 'node:worker_threads';
import { waitFor } from '../testing/wait-for.ts';
import { describe, expect, it } from 'vitest';
import type { DataFrame, Frame } from '../codecs/frame-types.ts';
import { portChannel } from './port.ts';

const data = (seq: number, payload = new Uint8Array([seq])): DataFrame => ({ type: 'data', tag: 16, seq, from: 'w', meta: new Uint8Array(0), payload });

function pair() {
  const { port1, port2 } = new MessageChannel();
  return [portChannel(port1, 'port://a'), portChannel(port2, 'port://b')] as const;
}

const collect = (ch: ReturnType<typeof portChannel>) => {
  const got: Frame[] = [];
  const closed: (Error | undefined)[] = [];
  ch.start({ frame: (f) => got.push(f), closed: (e) => closed.push(e) });
  return { got, closed };
};

/** how many messages cross the port for 50 frames sent in one turn by a side made with `opts` */
async function postsFor50Frames(opts: Parameters<typeof portChannel>[2]): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  const [a, b] = [portChannel(port1, 'port://a', opts), portChannel(port2, 'port://b')];
  let posts = 0;
  port2.on('message', () => posts++);
  const { got } = collect(b);
  collect(a);
  for (let i = 1; i <= 50; i++) a.send(data(i));
  await waitFor(() => got.length === 50);
  expect(got.map((f) => (f as DataFrame).seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  a.abort();
  return posts;
}

describe('frames between threads over a MessagePort', () => {
  it('delivers frames in order, each Data frame with bytes of its own', async () => {
    const [a, b] = pair();
    const { got } = collect(b);
    collect(a);
    const payload = new Uint8Array([1, 2, 3]);
    a.send(data(1, payload));
    a.send({ type: 'ping', id: 7 });
    payload[0] = 99; // the sender's buffer is its own again once sent
    await waitFor(() => got.length === 2);
    expect((got[0] as DataFrame).payload).toEqual(new Uint8Array([1, 2, 3]));
    expect(got[1]).toEqual({ type: 'ping', id: 7 });
    a.abort();
  });

  it('posts what serve’s side says in a turn as one message: a post wakes the other thread, and costs that much', async () => {
    const posts = await postsFor50Frames({ onceATurn: true });
    expect(posts).toBe(1);
  });

  it('posts each message of a worker thread’s side at once: the thread may die in the same turn', async () => {
    const posts = await postsFor50Frames({});
    expect(posts).toBe(50);
  });

  it('counts as buffered what the other side has not taken, which is what backpressure watches', async () => {
    const [a, b] = pair();
    collect(a);
    for (let i = 1; i <= 100; i++) a.send(data(i));
    expect(a.buffered).toBe(100);
    b.pause();
    const { got } = collect(b);
    await new Promise((r) => setTimeout(r, 30));
    expect(got.length).toBe(0);
    expect(a.buffered).toBe(100);
    const drained = a.drained();
    b.resume();
    await drained;
    await waitFor(() => a.buffered === 0);
    expect(got.map((f) => (f as DataFrame).seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    a.abort();
  });

  it('closes gracefully: what was sent before is delivered, then the other side closes too', async () => {
    const [a, b] = pair();
    const sideA = collect(a);
    const sideB = collect(b);
    b.pause();
    for (let i = 1; i <= 10; i++) a.send(data(i));
    await a.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(sideB.closed).toEqual([]);
    b.resume();
    await waitFor(() => sideB.closed.length === 1);
    expect(sideB.got.length).toBe(10);
    expect(sideB.closed).toEqual([undefined]);
    expect(sideA.closed).toEqual([undefined]);
  });

  it('aborts at once: what is queued is dropped, and the other side hears why', async () => {
    const [a, b] = pair();
    collect(a);
    const sideB = collect(b);
    b.pause();
    for (let i = 1; i <= 10; i++) a.send(data(i));
    a.abort(new Error('gone'));
    await waitFor(() => sideB.closed.length === 1);
    b.resume();
    await new Promise((r) => setTimeout(r, 20));
    expect(sideB.got).toEqual([]);
    expect(sideB.closed[0]?.message).toBe('gone');
  });
});
