import { describe, expect, it } from 'vitest';
import { Spool } from './spool.ts';

const frame = (seq: number) => ({ type: 'data' as const, tag: 16, seq, from: '', meta: new Uint8Array(), payload: new Uint8Array() });

describe('Spool', () => {
  it('keeps frames until acked and hands back what the zipper lacks', () => {
    const s = new Spool(100);
    for (let i = 1; i <= 5; i++) s.push({ frame: frame(i), records: 10 }, true);
    s.ack(2);
    expect(s.after(3).map((f) => f.frame.seq)).toEqual([4, 5]);
    expect(s.records).toBe(30);
  });

  it('drops the oldest when full, and counts what it dropped', () => {
    const s = new Spool(25);
    for (let i = 1; i <= 4; i++) s.push({ frame: frame(i), records: 10 }, false);
    expect(s.after(0).map((f) => f.frame.seq)).toEqual([3, 4]);
    expect(s.dropped).toBe(20);
  });

  it('counts frames it let go after they were sent as dropped only if the zipper never got them', () => {
    const s = new Spool(25);
    for (let i = 1; i <= 6; i++) s.push({ frame: frame(i), records: 10 }, true);
    expect(s.dropped).toBe(0);
    expect(s.unkeptRecords).toBe(40);
    expect(s.frames).toBe(6);
    s.ack(2);
    expect(s.unkeptRecords).toBe(20);
    // a new connection: the zipper holds up to seq 3, so seq 4 is lost
    expect(s.reconnected(3)).toBe(10);
    expect(s.dropped).toBe(10);
    s.ack(6);
    expect(s.frames).toBe(0);
  });
});
