/** One GPS fix as users write it. `t` is epoch milliseconds, from 1970-01-01 up to 2100-01-01 (codecs/fix-checks.ts). */
export interface GpsRecord {
  deviceId: string;
  t: number;
  lon: number;
  lat: number;
  speed?: number;
  heading?: number;
  accuracy?: number;
}

/** A shape test, not a validity test: coordinates out of range are a kernel's to count and skip. */
export const isGpsRecord = (r: unknown): r is GpsRecord =>
  typeof r === 'object' &&
  r !== null &&
  typeof (r as GpsRecord).deviceId === 'string' &&
  typeof (r as GpsRecord).t === 'number' &&
  typeof (r as GpsRecord).lon === 'number' &&
  typeof (r as GpsRecord).lat === 'number';
