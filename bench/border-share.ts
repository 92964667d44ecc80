import type { FenceChange } from './true-fence-events.ts';
import type { TrueTrack } from './true-track.ts';

/** metres from the line a change crosses (a fence's boundary; a pair's distance against roam's), given where the vehicles truly were */
export type OffLine = (change: FenceChange, at: (deviceId: string) => [number, number]) => number;

/** metres either side of the line that no σ 10 m fix can tell apart (issue 21: the unobservable share) */
export const BANDS = [3, 5];

/**
 * How many of `changes` kept within each of `bands` metres of their line at every step of the hold that made
 * them true: a vehicle on a border street's centreline, two vehicles driving 50 m apart. Which side such a
 * change is on is below what GPS can see, so a detector from GPS misses it or guesses.
 */
export function heldOnLine(changes: readonly FenceChange[], track: TrueTrack, hold: number, offLine: OffLine, bands: readonly number[] = BANDS): number[] {
  const counts = bands.map(() => 0);
  for (const e of changes) {
    let furthest = 0;
    for (const { at } of track.during(e.t, hold)) furthest = Math.max(furthest, offLine(e, at));
    bands.forEach((band, i) => furthest <= band && counts[i]++);
  }
  return counts;
}
