import { describe, expect, it } from 'vitest';
import { logger, type Logger } from '../log/logger.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { ScaleToZero } from './scale-to-zero.ts';

/** The idle rule on an injected clock: the calls it makes to park and wake, and when. */
describe('scale to zero', () => {
  const rig = (o: { busy?: () => boolean; log?: Logger } = {}) => {
    let now = 1_000;
    let last = 0;
    const calls: string[] = [];
    let failing = false;
    const s = new ScaleToZero({
      idleMs: 60_000,
      clock: () => now,
      lastActive: () => last,
      busy: o.busy ?? (() => false),
      park: async () => void calls.push('park'),
      wake: async () => {
        now += 7; // what the wake took
        calls.push('wake');
        if (failing) throw new Error('its fence file is gone');
      },
      log: o.log ?? logger('test'),
    });
    return { s, calls, at: (t: number) => void (now = t), frame: () => void (last = now), failing: (f: boolean) => void (failing = f) };
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

  it('after a failed wake, tries again only once its backoff (1 s, doubling to 30 s) is over: at the next frame held, or the next tick if one came meanwhile', async () => {
    const { s, calls, at, failing } = rig();
    at(100_000);
    await s.tick();
    failing(true);
    await s.held();
    expect([calls, s.state]).toEqual([['park', 'wake'], 'parked']);
    // 100,007 + 1,000
    at(101_006);
    await s.held();
    await s.tick();
    expect(calls).toEqual(['park', 'wake']);
    at(101_007);
    await s.tick();
    expect(calls).toEqual(['park', 'wake', 'wake']);
    // the second failure backs off 2 s, from 101,014
    at(103_013);
    await s.held();
    expect(calls).toEqual(['park', 'wake', 'wake']);
    failing(false);
    at(103_014);
    await s.held();
    expect([calls, s.state]).toEqual([['park', 'wake', 'wake', 'wake'], 'running']);
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

  it('once serve stops, wakes for no frame held: each counted, said once; frames held while it parks wake nothing either, each counted', async () => {
    const log = keptLinesLog();
    const { s, calls, at } = rig({ log });
    at(300_000);
    // the park and the first frame's hold begin before serve stops, and end after
    // two frames' holds, counted as two (not as one wish to wake)
    const parking = s.tick();
    const held = [s.held(), s.held()];
    s.stop();
    await Promise.all([parking, ...held]);
    await s.held();
    await s.held();
    expect([calls, s.state, s.unwoken, s.coldStarts]).toEqual([['park'], 'parked', 4, 0]);
    expect(log.said).toEqual(['warn serve stops: not started again from zero for the frames held for it, which stay unacknowledged (geoflux_function_unwoken_frames_total)']);
  });
});
