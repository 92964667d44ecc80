import { describe, expect, it } from 'vitest';
import { decodeGpsBatch, recordsOf } from '../codecs/gps-batch.ts';
import { fleetBatch } from '../testing/gps-fleet-batch.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { SubjectBatcher, type ReadyMessage } from './subject-batcher.ts';

const setup = (o: { minFixes?: number; maxFixes?: number } = {}) => {
  const clock = new ManualClock();
  const ready: ReadyMessage<string>[] = [];
  const b = new SubjectBatcher<string>({ ...o, maxDelayMs: 50, clock, onReady: (m) => ready.push(m) });
  return { clock, ready, b };
};

describe('SubjectBatcher', () => {
  it('holds a trickle until 50 ms after its first fix, then sends the frames so far as one message', () => {
    const { clock, ready, b } = setup();
    b.add('src', 1, 's.gps.0', 'gps:0', fleetBatch(10, 1), 'f1');
    clock.advance(30);
    b.add('src', 2, 's.gps.0', 'gps:0', fleetBatch(10, 2), 'f2');
    clock.advance(19);
    expect(ready).toEqual([]);
    expect(b.waiting).toBe(20);
    clock.advance(1);
    expect(ready.map((m) => [m.msgId, m.fixes, m.frames])).toEqual([['src:1-2:gps:0:0', 20, ['f1', 'f2']]]);
    expect(recordsOf(decodeGpsBatch(ready[0].payload)).map((r) => r.t)).toEqual([...Array(10).fill(1_700_000_001_000), ...Array(10).fill(1_700_000_002_000)]);
  });

  it('sends at once when a message reaches 32 fixes, per writer and subject', () => {
    const { ready, b } = setup();
    b.add('a', 7, 's.gps.0', 'gps:0', fleetBatch(40, 7), 'a7');
    b.add('b', 7, 's.gps.0', 'gps:0', fleetBatch(20, 7), 'b7');
    b.add('a', 8, 's.gps.1', 'gps:1', fleetBatch(31, 8), 'a8');
    expect(ready.map((m) => m.msgId)).toEqual(['a:7-7:gps:0:0']);
    expect(b.waiting).toBe(51);
  });

  it('cuts a frame larger than a message into numbered chunks, and never splits a frame across messages', () => {
    const { ready, b } = setup({ maxFixes: 100 });
    b.add('a', 1, 's.gps.0', 'gps:0', fleetBatch(10, 1), 'f1');
    b.add('a', 2, 's.gps.0', 'gps:0', fleetBatch(250, 2), 'f2');
    expect(ready.map((m) => [m.msgId, m.fixes])).toEqual([
      ['a:1-1:gps:0:0', 10],
      ['a:2-2:gps:0:0', 100],
      ['a:2-2:gps:0:1', 100],
      ['a:2-2:gps:0:2', 50],
    ]);
  });
});
