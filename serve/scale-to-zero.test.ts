import { describe, expect, it } from 'vitest';
import { logger } from '../log/logger.ts';
import { ScaleToZero } from './scale-to-zero.ts';

/** The idle rule on an injected clock: the calls it makes to park and wake, and when. */
describe('scale to zero', () => {
  const rig = (o: { busy?: () => boolean } = {}) => {
    let now = 1_000;
    let last = 0;
    const calls: string[] = [];
    const s = new ScaleToZero({
      idleMs: 60_000,
      clock: () => now,
      lastActive: () => last,
      busy: o.busy ?? (() => false),
      park: async () => void calls.push('park'),
      wake: async () => {
        now += 7; // what the wake took
        calls.push('wake');
      },
      log: logger('test'),
    });
    return { s, calls, at: (t: number) => void (now = t), frame: () => void (last = now) };
  };

  it('parks only after the idle period without a frame, and wakes on the first frame held, counting the cold start', async () => {
    const { s, calls, at, frame } = rig();
    at(30_000);
    frame();
    at(89_999);
    await s.tick();
    expect(calls).toEqual([]);
    at(90_000);
    await s.tick();
    expect([calls, s.state]).toEqual([['park'], 'parked']);
    await s.tick();
    expect(calls).toEqual(['park']);
    await s.held();
    expect([calls, s.state, s.coldStarts, s.lastColdStartMs]).toEqual([['park', 'wake'], 'running', 1, 7]);
    // the idle period starts again from the wake, not from the last frame before the park
    at(90_007 + 59_999);
    await s.tick();
    expect(calls).toEqual(['park', 'wake']);
  });

  it('does not park while its instances hold frames; a frame held while it parks wakes it once parked', async () => {
    let busy = true;
    const { s, calls, at } = rig({ busy: () => busy });
    at(200_000);
    await s.tick();
    expect(calls).toEqual([]);
    busy = false;
    const parking = s.tick();
    await s.held();
    await parking;
    expect([calls, s.state]).toEqual([['park', 'wake'], 'running']);
  });
});
