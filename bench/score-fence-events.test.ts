import { describe, expect, it } from 'vitest';
import { scoreFenceEvents, type DetectedChange } from './score-fence-events.ts';
import type { FenceChange } from './true-fence-events.ts';

const s = 1000;
const change = (detect: 'enter' | 'exit', t: number): FenceChange => ({ deviceId: 'v', fence: 'f', detect, t: t * s });
const detection = (detect: 'enter' | 'exit', t: number, emitted: number): DetectedChange => ({ ...change(detect, t), emitted: emitted * s });
const score = (detected: DetectedChange[], truth: FenceChange[]) => scoreFenceEvents(detected, truth, { within: 15 * s, flapWithin: 10 * s, vehicleHours: 1 });

describe('scoring detected enters and exits against the truth (issue 21)', () => {
  it('tells a flap of two true events (a true visit of 13 s whose enter came out late) from a flap of noise', () => {
    // the enter held back 14 s by a map matcher, the exit 8 s: out 7 s apart, both right
    const late = score([detection('enter', 36, 50), detection('exit', 49, 57)], [change('enter', 36), change('exit', 49)]);
    expect(late).toMatchObject({ precision: 1, recall: 1, flapsPerVehicleHour: 1, trueVisitFlapsPerVehicleHour: 1 });
    // a visit of 9 s that is no true change: a flap, and not of a true visit
    const noise = score([detection('enter', 36, 44), detection('exit', 45, 53)], []);
    expect(noise).toMatchObject({ precision: 0, flapsPerVehicleHour: 1, trueVisitFlapsPerVehicleHour: 0 });
  });

  it('lists the true changes no detection matched', () => {
    const missed = score([detection('enter', 10, 18)], [change('enter', 10), change('exit', 40)]).missed;
    expect(missed).toEqual([change('exit', 40)]);
  });
});
