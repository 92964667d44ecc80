import type { GpsRecord } from '../codecs/gps-record.ts';
import { waitFor } from './wait-for.ts';

/**
 * A hotspot kernel's state across something that could lose it (a stop of serve, a restart of its host
 * thread): one cell of a small grid takes 5 fixes, then 3 more and a fix two slides on, which closes the
 * cell's window: kept, the window counts 8 (`hot 8`); lost, 3.
 */

const T0 = Date.UTC(2026, 0, 1);
/** a fix at `s` seconds into the stream, of one of three devices, all in the same 100 m cell */
export const fix = (i: number, s: number): GpsRecord => ({ deviceId: `v${i % 3}`, t: T0 + s * 1000, lon: 7.4205, lat: 43.7305, speed: 5 });
/** the hotspot's params: a 100 m grid around the cell, 10-minute windows sliding by a minute */
export const HOT_CELL = { cellSize: 100, gridWidth: 8, gridHeight: 8, originLon: 7.42, originLat: 43.73, window: 600, slide: 60, minCount: 1 };

/** five fixes into the cell, taken by the kernel */
export const firstFive = async ({ write, handled }: { write: (fixes: GpsRecord[]) => void; handled: () => number | Promise<number> }) => {
  write([1, 2, 3, 4, 5].map((i) => fix(i, i)));
  await waitFor(handled, { what: 'the kernel to take 5 fixes', until: (n) => n === 5 });
};

/** three more fixes into the cell, then one two slides on: the events of the windows that closed */
export const threeMore = async ({ write, events }: { write: (fixes: GpsRecord[]) => void; events: string[] }) => {
  write([6, 7, 8].map((i) => fix(i, i)));
  write([fix(0, 130)]);
  await waitFor(() => events.length, { what: () => `the closed windows' events, got ${events}`, until: (n) => n > 0 });
};
