import { describe, expect, it } from 'vitest';
import { fleetClock } from './fleet-clock.ts';

describe('the e2e bench fleet clock', () => {
  const start = Date.UTC(2026, 0, 1);

  it('advances one second per fleet of fixes, so a vehicle reporting once per fleet is a second apart', () => {
    const c = fleetClock(start, 2000, 250);
    expect(c.timeOf(0)).toBe(start);
    expect(c.timeOf(1)).toBe(start + 125);
    // the vehicle at slice 3 of one round is in slice 11 of the next: 8 slices of 250 later
    expect(c.timeOf(11) - c.timeOf(3)).toBe(1000);
  });

  it('tells the slice a fix was written in from its time, through an ISO string as events carry it', () => {
    const c = fleetClock(start, 3000, 250); // 83.3 ms per slice: rounded to whole ms
    for (const i of [0, 1, 2, 7, 1234, 99_999]) expect(c.sliceOf(Date.parse(new Date(c.timeOf(i)).toISOString()))).toBe(i);
  });

  it('names no slice for a time between slices or before the start (a crossing estimate, not a fix)', () => {
    const c = fleetClock(start, 2000, 250);
    expect(c.sliceOf(start + 60)).toBeNaN();
    expect(c.sliceOf(start - 125)).toBeNaN();
  });

  it('refuses slices closer than a millisecond, which events could not tell apart', () => {
    expect(() => fleetClock(start, 2_000_000, 250)).toThrow(/under 1 ms/);
  });
});
