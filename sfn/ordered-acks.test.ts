import { describe, expect, it } from 'vitest';
import type { Frame } from '../codecs/frame-types.ts';
import type { FrameChannel } from '../transport/types.ts';
import { OrderedAcks } from './ordered-acks.ts';

const channel = () => {
  const sent: Frame[] = [];
  return Object.assign({ send: (f: Frame) => void sent.push(f) } as unknown as FrameChannel, { sent });
};

describe('ordered acks', () => {
  it('acks a frame finished early only once the frames before it are finished, releasing each in order', () => {
    const acks = new OrderedAcks();
    const ch = channel();
    const released: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => Object.assign(acks.begin(ch), { release: () => void released.push(name) }));
    acks.finish(c);
    acks.finish(b);
    expect(ch.sent).toEqual([]);
    acks.finish(a);
    expect(released).toEqual(['a', 'b', 'c']);
    expect(ch.sent).toEqual([1, 2, 3].map((seq) => ({ type: 'ack', seq })));
  });

  it('counts each channel apart, and a skipped frame waits its turn', () => {
    const acks = new OrderedAcks();
    const [x, y] = [channel(), channel()];
    const first = acks.begin(x);
    acks.skip(y);
    acks.skip(x);
    expect(acks.pending).toBe(3);
    acks.finish(first);
    expect(x.sent).toEqual([{ type: 'ack', seq: 1 }, { type: 'ack', seq: 2 }]);
    expect(y.sent).toEqual([{ type: 'ack', seq: 1 }]);
    expect(acks.pending).toBe(0);
  });

  it('gives each ack what `counted` says once its frame is released (a thread\'s counters, its outputs included)', () => {
    let emitted = 0;
    const acks = new OrderedAcks(() => ({ emitted }));
    const ch = channel();
    const h = Object.assign(acks.begin(ch), { release: () => void emitted++ });
    acks.finish(h);
    expect(ch.sent).toEqual([{ type: 'ack', seq: 1, counted: { emitted: 1 } }]);
  });

  it('gives the counters to the last ack of a run finished at once only (one batch call\'s frames)', () => {
    let calls = 0;
    const acks = new OrderedAcks(() => ({ calls: ++calls }));
    const ch = channel();
    acks.finish(acks.begin(ch), acks.begin(ch), acks.begin(ch));
    expect(ch.sent).toEqual([{ type: 'ack', seq: 1 }, { type: 'ack', seq: 2 }, { type: 'ack', seq: 3, counted: { calls: 1 } }]);
  });
});
