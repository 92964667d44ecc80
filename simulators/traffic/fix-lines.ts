import type { GpsRecord } from '../../codecs/gps-record.ts';
import { rounded } from '../../codecs/precision.ts';

/** Fixes as text: CSV with a header that `geoflux replay` and every trace reader here recognise, or JSON lines. */
export type LineFormat = 'csv' | 'jsonl';

export const CSV_HEADER = 'deviceId,time,lon,lat,speed,heading,accuracy';

/** Fields to what they mean (codecs/precision.ts): both formats read back as the same numbers. */
export function fixLine(fix: GpsRecord, format: LineFormat): string {
  const r = rounded(fix);
  if (format === 'jsonl') return JSON.stringify(r);
  return `${r.deviceId},${new Date(r.t).toISOString()},${r.lon.toFixed(7)},${r.lat.toFixed(7)},${r.speed ?? ''},${r.heading ?? ''},${r.accuracy ?? ''}`;
}

/** csv for a .csv name, JSON lines otherwise (and for stdout) */
export const formatOf = (path: string): LineFormat => (/\.csv$/i.test(path) ? 'csv' : 'jsonl');
