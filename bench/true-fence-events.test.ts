import { describe, expect, it } from 'vitest';
import { trueFenceEvents, type TrueSample } from './true-fence-events.ts';

/** one vehicle, one fence, a sample a second: `track` is its membership second by second */
const samples = (track: string): TrueSample[] => [...track].map((c, i) => ({ deviceId: 'v', t: i * 1000, fences: c === 'I' ? ['f'] : [] }));
const events = (track: string) => trueFenceEvents(samples(track), 10_000).map((e) => `${e.detect}@${e.t / 1000}`);

describe('the true fence events a user counts (issue 21)', () => {
  it('counts a change once it has held 10 s, dated when it began', () => {
    expect(events('OOO' + 'I'.repeat(12) + 'O'.repeat(11))).toEqual(['enter@3', 'exit@15']);
  });

  it('counts no change that undoes itself within 10 s (a border street)', () => {
    expect(events('OOOIIIIOOOO' + 'IO'.repeat(5) + 'O'.repeat(10))).toEqual([]);
  });

  it('counts inside at the first sample as an enter only if it holds: a vehicle that starts inside and leaves at once makes no event', () => {
    expect(events('I'.repeat(11))).toEqual(['enter@0']);
    expect(events('III' + 'O'.repeat(15))).toEqual([]);
  });
});
