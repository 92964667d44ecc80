import { describe, expect, it } from 'vitest';
import { collected } from '../testing/collected.ts';
import { Fifo } from './fifo.ts';

describe('Fifo', () => {
  it('takes items in the order they came, and puts one back in front', () => {
    const q = new Fifo<number>([1, 2]);
    q.push(3);
    expect(q.shift()).toBe(1);
    q.unshift(9);
    expect([q.length, q.peek(), q.peek(1), q.peek(3)]).toEqual([3, 9, 2, undefined]);
    expect([...q]).toEqual([9, 2, 3]);
    expect(q.takeAll()).toEqual([9, 2, 3]);
    expect([q.length, q.shift()]).toEqual([0, undefined]);
  });

  it('stays in order across its compactions', () => {
    const q = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      if (i % 3 !== 0) out.push(q.shift()!);
    }
    while (q.length) out.push(q.shift()!);
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('lets go of an item once it is taken, with others still queued', async () => {
    const q = new Fifo<object>();
    const ref = (() => {
      const taken = { payload: new Uint8Array(1024) };
      q.push(taken);
      for (let i = 0; i < 10; i++) q.push({});
      q.shift();
      return new WeakRef(taken);
    })();
    expect(await collected(ref)).toBe(true);
    expect(q.length).toBe(10);
  });
});
