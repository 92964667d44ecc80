import { KNOT } from '../../codecs/fix-checks.ts';

/**
 * NMEA 0183 sentences as GNSS receivers print them: `$GPRMC,…*hh`, the checksum the XOR of every character
 * between `$` and `*`. RMC (the recommended minimum: time, date, status, position, speed in knots, course)
 * and GGA (time, position, fix quality, satellites, HDOP; no date) are read, from any talker (GP, GN, GL…).
 */

export type Sentence =
  | { kind: 'RMC'; time: number; date?: number; valid: boolean; lat: number; lon: number; speed?: number; course?: number }
  | { kind: 'GGA'; time: number; quality: number; lat: number; lon: number; satellites?: number; hdop?: number };

export type Parsed = { sentence: Sentence } | { error: string } | { other: string };

/** a sentence's checksum: the XOR of its characters between `$` and `*` */
export function nmeaChecksum(body: string): number {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x;
}

/** ms into the day of `hhmmss.sss`; NaN for an hour, minute or second no clock shows (a leap second's 60 is one) */
const timeOfDay = (s: string): number => {
  const m = /^(\d\d)(\d\d)(\d\d(?:\.\d+)?)$/.exec(s);
  if (!m) return NaN;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Date.UTC would roll 24:61:99 over into the next day rather than say it is no time
  return h < 24 && min < 60 && sec < 61 ? (h * 3600 + min * 60 + sec) * 1000 : NaN;
};

/** epoch ms of midnight of `ddmmyy` (years 80-99 are 19xx, as receivers of that era meant); NaN for a day no calendar has */
const dateOf = (s: string): number => {
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(s);
  if (!m) return NaN;
  const [dd, mm, yy] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const year = yy >= 80 ? 1900 + yy : 2000 + yy;
  const t = Date.UTC(year, mm - 1, dd);
  const back = new Date(t);
  // 31/13 or 30/02 would roll over into another month
  return back.getUTCFullYear() === year && back.getUTCMonth() === mm - 1 && back.getUTCDate() === dd ? t : NaN;
};

/** degrees of `ddmm.mmmm` (or `dddmm.mmmm`) and its hemisphere */
const degrees = (v: string, hemi: string, neg: string): number => {
  const m = /^(\d+)(\d\d(?:\.\d+)?)$/.exec(v);
  if (!m) return NaN;
  const minutes = Number(m[2]);
  if (minutes >= 60) return NaN;
  const d = Number(m[1]) + minutes / 60;
  return hemi === neg ? -d : d;
};

const optional = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

export function parseSentence(line: string): Parsed {
  const text = line.trim();
  const m = /^[$!]([^*]*)\*([0-9A-Fa-f]{2})$/.exec(text);
  if (!m) return { error: `not an NMEA sentence with a checksum: ${JSON.stringify(text.slice(0, 60))}` };
  const want = nmeaChecksum(m[1]);
  if (want !== parseInt(m[2], 16)) return { error: `checksum ${m[2]} is not the sentence's (${want.toString(16).toUpperCase().padStart(2, '0')}): ${text.slice(0, 60)}` };
  const f = m[1].split(',');
  const type = f[0].slice(-3);
  if (type === 'RMC') {
    const time = timeOfDay(f[1]);
    const lat = degrees(f[3], f[4], 'S');
    const lon = degrees(f[5], f[6], 'W');
    const knots = optional(f[7]);
    if (f[2] === 'A' && (Number.isNaN(time) || Number.isNaN(lat) || Number.isNaN(lon))) return { error: `an RMC without time or position: ${text.slice(0, 60)}` };
    const date = f[9] ? dateOf(f[9]) : undefined;
    if (f[2] === 'A' && Number.isNaN(date)) return { error: `an RMC dated ${f[9]}, a day no calendar has: ${text.slice(0, 60)}` };
    return { sentence: { kind: 'RMC', time, date, valid: f[2] === 'A', lat, lon, speed: knots === undefined ? undefined : knots * KNOT, course: optional(f[8]) } };
  }
  if (type === 'GGA') {
    const quality = Number(f[6] || 0);
    const time = timeOfDay(f[1]);
    const lat = degrees(f[2], f[3], 'S');
    const lon = degrees(f[4], f[5], 'W');
    if (quality > 0 && (Number.isNaN(time) || Number.isNaN(lat) || Number.isNaN(lon))) return { error: `a GGA without time or position: ${text.slice(0, 60)}` };
    return { sentence: { kind: 'GGA', time, quality, lat, lon, satellites: optional(f[7]), hdop: optional(f[8]) } };
  }
  return { other: f[0] };
}
