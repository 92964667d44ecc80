import type { GpsRecord } from '../codecs/gps-record.ts';
import { offsetBy } from '../network/geo.ts';

/**
 * A vehicle crossing a north-south border eastwards at 10 s, then driving north along it `inside` metres
 * past it, every third fix put 2 m back outside by the receiver: the noise that restarts a debounce wait
 * counted by the run of fixes on the new side (the geofence's `confirmRun`). A fix a second from `t0`.
 */
export function wobblingCrossing([lon, lat]: [number, number], inside: number, t0: number): GpsRecord[] {
  return Array.from({ length: 40 }, (_, s) => {
    const east = s < 10 ? -60 + 6 * s : s % 3 === 2 ? -2 : inside;
    const [x, y] = offsetBy(lon, lat, east, 10 * s);
    return { deviceId: 'v', t: t0 + s * 1000, lon: x, lat: y };
  });
}
