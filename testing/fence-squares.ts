import type { GpsRecord } from '../codecs/gps-record.ts';

/**
 * Fences for kernel tests: a row of five 0.01° squares along the equator, f0 … f4, 0.01° apart; and
 * vehicles that drive east across f0's west border (lon 0) at 10 m/s, truly across at 10 s, a fix a second.
 */
const square = (x: number) => [[x, 0], [x + 0.01, 0], [x + 0.01, 0.01], [x, 0.01], [x, 0]];

export const SQUARES = { type: 'FeatureCollection', features: [0, 1, 2, 3, 4].map((i) => ({ type: 'Feature', id: `f${i}`, properties: {}, geometry: { type: 'Polygon', coordinates: [square(i * 0.02)] } })) };

/** vehicle `v`'s fix at second `s`, crossing into f0 at 10 s */
export const crossingFix = (v: number, s: number): GpsRecord => ({ deviceId: `v${v}`, t: s * 1000, lon: -0.0009 + s * 0.00009, lat: 0.002 + v * 0.0002, speed: 10 });
