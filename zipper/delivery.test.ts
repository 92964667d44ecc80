import { describe, expect, it } from 'vitest';
import { WriterSession } from './delivery.ts';

describe('a writer session', () => {
  const session = () => {
    const s = new WriterSession('w');
    const acks: number[] = [];
    s.onAck = (seq) => acks.push(seq);
    return { s, acks };
  };

  it('acks the longest prefix of settled frames, never past one still held', () => {
    const { s, acks } = session();
    const [a, b, c] = [1, 2, 3].map((seq) => Object.assign(s.begin(seq), { pending: 1 }));
    s.settle(b);
    expect(acks).toEqual([]);
    s.settle(a);
    expect(acks).toEqual([2]);
    expect(s.inflightCount).toBe(1);
    s.settle(c);
    expect(acks).toEqual([2, 3]);
    expect(s.acked).toBe(3);
  });

  it('waits for every target of a frame sent to several functions', () => {
    const { s, acks } = session();
    const d = Object.assign(s.begin(1), { pending: 2 });
    s.settle(d);
    expect(acks).toEqual([]);
    s.settle(d);
    expect(acks).toEqual([1]);
  });

  it('acks at once a frame that went nowhere, and knows duplicates by sequence number', () => {
    const { s, acks } = session();
    s.begin(5);
    s.advance();
    expect(acks).toEqual([5]);
    expect(s.lastSeq).toBe(5);
  });

  it('lets settled frames go: a session keeps no Delivery it is done with', () => {
    const { s } = session();
    // the frames it references, settled or not (what a heap snapshot of the soak counted)
    const referenced = () => (s as unknown as { inflight: unknown[] }).inflight.length;
    for (let seq = 1; seq <= 300; seq++) s.settle(Object.assign(s.begin(seq), { pending: 1 }));
    expect(referenced()).toBe(0);
    const held = Object.assign(s.begin(301), { pending: 1 });
    for (let seq = 302; seq <= 600; seq++) s.settle(Object.assign(s.begin(seq), { pending: 1 }));
    s.settle(held);
    expect(referenced()).toBe(0);
    const first = Object.assign(s.begin(601), { pending: 1 });
    s.settle(first);
    const stuck = Object.assign(s.begin(602), { pending: 1 });
    for (let seq = 603; seq <= 900; seq++) s.begin(seq).pending = 1;
    expect(referenced()).toBe(299);
    expect(stuck.pending).toBe(1);
  });
});
