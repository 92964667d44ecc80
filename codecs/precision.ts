/**
 * Numbers written out as text (sim's fixes and truth, the query API's answers) to what they can mean: positions
 * to 1e-7° (1.1 cm at most, a Teltonika's own resolution), metres and metres a second to the centimetre,
 * headings to a tenth of a degree. A double's 17 digits there are noise, and a longer line to write and parse.
 * Times stay as they are (whole ms).
 */
export const round = (x: number, scale: number): number => Math.round(x * scale) / scale;

export const DEGREES = 1e7;
export const METRES = 100;
const HEADING = 10;

/** what each field of a fix, or of a simulator's truth about it, is measured in */
const SCALES: Record<string, number> = { lon: DEGREES, lat: DEGREES, speed: METRES, accuracy: METRES, offset: METRES, heading: HEADING };

/** a copy of `r` with its measured fields rounded (those in SCALES); the rest as given */
export function rounded<R extends object>(r: R): R {
  const out = { ...r } as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (typeof v === 'number' && SCALES[k] !== undefined) out[k] = round(v, SCALES[k]);
  // 359.96° is north: written 0, not 360
  if (out.heading === 360) out.heading = 0;
  return out as R;
}
