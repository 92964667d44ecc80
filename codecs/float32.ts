/**
 * Fix fields travel as f32 (speed, heading, accuracy: codecs/gps-batch.ts), and an f32 read back as a double
 * prints with noise: 15.66 becomes 15.65999984741211. What is shown to people, or decoded from a kernel's
 * f32 columns, is the shortest decimal that reads back as the same f32.
 */

/** a finite f32 as the shortest decimal that reads back as the same f32 (15.44, not 15.4399995803833); 9 digits always do */
export function shortestF32(x: number): number {
  for (let p = 1; ; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x || p === 9) return y;
  }
}

/**
 * A JSON.stringify replacer for lines people read (the printer): a fraction that is exactly an f32 is taken
 * for one. Whole numbers are left alone: a large one (a time in ms) may be f32-exact and is no f32.
 */
export const readableF32 = (_key: string, v: unknown): unknown => (typeof v === 'number' && !Number.isInteger(v) && Math.fround(v) === v ? shortestF32(v) : v);
