import { describe, expect, it } from 'vitest';
import type { DataFrame } from '../codecs/frame-types.ts';
import { collected } from '../testing/collected.ts';
import { memoryPair } from '../transport/memory.ts';
import { Connection } from './connection.ts';
import { WriterSession } from './delivery.ts';

const frame = (seq: number): DataFrame => ({ type: 'data', tag: 16, seq, from: 'src', meta: new Uint8Array(0), payload: new Uint8Array(16 * 1024) });

describe('Connection', () => {
  it('lets go of a frame once its instance acked it, not 1,024 acks later', async () => {
    const conn = new Connection(1, memoryPair()[0]);
    const session = new WriterSession('src');
    const first = (() => {
      const f = frame(1);
      conn.hand({ d: session.begin(1), frame: f, fn: 'f', failed: 0 });
      return new WeakRef(f.payload);
    })();
    for (let seq = 2; seq <= 20; seq++) conn.hand({ d: session.begin(seq), frame: frame(seq), fn: 'f', failed: 0 });
    expect(conn.ackUpTo(10).map((u) => u.frame.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await collected(first)).toBe(true);
    expect(conn.unackedCount).toBe(10);
    expect(conn.takeOrphans().map((u) => u.frame.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  });
});
