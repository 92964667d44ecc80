import { controlCharacterProblem, quoted } from './control-characters.ts';
import { selectRows, utf8Length, type GpsBatch } from './gps-batch.ts';
import type { GpsRecord } from './gps-record.ts';

/**
 * What makes a fix unusable, checked in one place: where fixes enter (the source SDK's write() refuses them
 * at once) and again before a kernel (a writer that skipped the SDK is not to be trusted), where each bad row
 * is counted by its reason and dropped, and its neighbours go on.
 */

export type BadFixReason = 'device' | 'time' | 'position' | 'motion';

/** UTF-8 bytes a device id may take: ids travel in every batch and in MQTT topics */
export const MAX_DEVICE_ID_BYTES = 256;

/**
 * The epoch ms a fix's time may take: 1970-01-01 up to 2100-01-01. Anything else is a broken clock or a unit
 * mix-up (seconds as ms, µs as ms), and past ±8.64e15 not even a Date: `t: 9e15` used to reach the geofence
 * kernel and cost its whole batch there (`Invalid time value`).
 */
export const MIN_FIX_TIME = 0;
export const MAX_FIX_TIME = Date.UTC(2100, 0, 1);
const saneTime = (t: number) => t >= MIN_FIX_TIME && t < MAX_FIX_TIME;
/** a time a Date can hold, so an ISO string can be made of it */
const isDate = (t: number) => Math.abs(t) <= 8.64e15;

/**
 * A unix time as devices send it, seconds or milliseconds, in epoch ms. Milliseconds from 1e12 up: every
 * time since 2001-09-09 has 13 digits in ms, and seconds reach 1e12 only in the year 33658. Below, seconds:
 * 99999999999 is the year 5138 (which the time window refuses), not 1973 as ms. (Traccar's rule, seconds
 * below 2^31, read every 11- and 12-digit number as ms.)
 */
export const unixTimeMs = (n: number): number => (n >= 1e12 ? n : n * 1000);

/**
 * Whether a fix's t is clearly epoch seconds taken for ms: 10 digits, within a day of now in seconds
 * (`Math.floor(Date.now() / 1000)`, 1970-01-21 as ms). Not refused: replays and tests count from 0 in
 * small relative times, and a 10-digit time far from now may be one of those; this one is a unit mix-up.
 */
export const looksLikeEpochSeconds = (t: number, now: number): boolean => t >= 1e9 && t < 1e10 && Math.abs(t - now / 1000) <= 86_400;

/** a knot in m/s: devices (NMEA, Traccar Client) and the speed limit below count in knots */
export const KNOT = 1852 / 3600;

/**
 * The most speed a fix may carry, m/s: 1,000 knots, the COCOM limit past which a civil GPS receiver reports
 * nothing at all. A speed above it is a unit mix-up (km/h or knots sent as m/s, mm/s) or noise, not a move.
 */
export const MAX_SPEED = 1000 * KNOT;

const inRange = (x: number, lim: number) => Number.isFinite(x) && x >= -lim && x <= lim;
const infinite = (x: number) => x === Infinity || x === -Infinity;
/** speed, heading, accuracy are optional: absent, or NaN (a batch's "unknown"), or a finite number */
const optional = (x: unknown) => x === undefined || x === null || (typeof x === 'number' && !infinite(x));

function deviceProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'deviceId must be a non-empty string';
  if (id.length * 3 > MAX_DEVICE_ID_BYTES && utf8Length(id) > MAX_DEVICE_ID_BYTES) return `deviceId is longer than ${MAX_DEVICE_ID_BYTES} bytes`;
  return controlCharacterProblem('deviceId', id);
}

/**
 * A written value as a message shows it: a number as itself, anything else with its type, since a string
 * "7.42" or a bigint printed bare looks like the number it is not.
 */
function shown(v: unknown): string {
  if (typeof v === 'number' || v === undefined || v === null) return String(v);
  if (typeof v === 'string') return `the string ${quoted(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (v instanceof Date) return `a Date (${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v} ${String(v)}`;
}

/** Why a fix cannot be used, with the reason it is counted under; undefined when it is fine. */
export function fixProblem(r: GpsRecord): { reason: BadFixReason; message: string } | undefined {
  const device = deviceProblem(r.deviceId);
  if (device) return { reason: 'device', message: device };
  if (typeof r.t !== 'number' || !saneTime(r.t)) return { reason: 'time', message: `t must be epoch ms from 1970-01-01 to 2100-01-01 (got ${shown(r.t)})` };
  if (typeof r.lon !== 'number' || !inRange(r.lon, 180)) return { reason: 'position', message: `lon must be a number in [-180, 180] (got ${shown(r.lon)})` };
  if (typeof r.lat !== 'number' || !inRange(r.lat, 90)) return { reason: 'position', message: `lat must be a number in [-90, 90] (got ${shown(r.lat)})` };
  const k = !optional(r.speed) ? 'speed' : !optional(r.heading) ? 'heading' : !optional(r.accuracy) ? 'accuracy' : undefined;
  if (k) return { reason: 'motion', message: `${k} must be a finite number when given (got ${shown(r[k])})` };
  if (typeof r.speed === 'number' && r.speed > MAX_SPEED) return { reason: 'motion', message: `speed must be at most ${MAX_SPEED.toFixed(1)} m/s, 1,000 knots, the most a civil GPS receiver reports (got ${r.speed})` };
  return undefined;
}

/** Raised by write() for a fix it will not send: the message names the fix and what is wrong with it. */
export class InvalidFixError extends TypeError {
  override readonly name = 'InvalidFixError';
}

export type BadRowCounts = Partial<Record<BadFixReason, number>>;

/** Adds one batch's counts to a running total. */
export function addBadRows(into: BadRowCounts, bad: BadRowCounts): void {
  for (const [reason, n] of Object.entries(bad)) into[reason as BadFixReason] = (into[reason as BadFixReason] ?? 0) + n;
}

/** The rows of a batch fit for a kernel, tidied, and how many were not, by reason (the batch itself when all are and nothing needed tidying). */
export function goodRows(batch: GpsBatch): { batch: GpsBatch; bad: BadRowCounts; dropped: number } {
  const b = tidyBatch(batch);
  const devices = b.devices.map((d) => deviceProblem(d) === undefined);
  return keepRows(b, (i) =>
    !devices[b.device[i]]
      ? 'device'
      : !saneTime(b.t[i])
        ? 'time'
        : !inRange(b.lon[i], 180) || !inRange(b.lat[i], 90)
          ? 'position'
          : infinite(b.speed[i]) || infinite(b.heading[i]) || infinite(b.accuracy[i])
            ? 'motion'
            : undefined,
  );
}

/**
 * The rows of a batch whose time a Date can hold: what a kernel's events can be made of. The library calls
 * (createGeofence().process) leave every other check to the kernel, which skips and counts what it cannot
 * use, but a time past ±8.64e15 ms (`t: 9e15`) would fail the whole call when its event is decoded.
 */
export const datedRows = (b: GpsBatch) => keepRows(b, (i) => (isDate(b.t[i]) ? undefined : 'time'));

function keepRows(b: GpsBatch, problem: (i: number) => BadFixReason | undefined): { batch: GpsBatch; bad: BadRowCounts; dropped: number } {
  const bad: BadRowCounts = {};
  let keep: number[] | undefined;
  for (let i = 0; i < b.n; i++) {
    const reason = problem(i);
    if (reason) {
      bad[reason] = (bad[reason] ?? 0) + 1;
      keep ??= Array.from({ length: i }, (_, j) => j);
    } else keep?.push(i);
  }
  if (!keep) return { batch: b, bad, dropped: 0 };
  return { batch: selectRows(b, keep), bad, dropped: b.n - keep.length };
}

/** A record that names all four fields of a fix is held to a fix's rules; anything else is an event. */
export const looksLikeFix = (r: unknown): r is GpsRecord =>
  typeof r === 'object' && r !== null && 'deviceId' in r && 't' in r && 'lon' in r && 'lat' in r;

/*
 * The optional fields as GPS stacks send them, read one way everywhere: a negative speed, accuracy or heading
 * means "not known" (iOS reports -1 for each it lacks; Android leaves them out), so it becomes unknown (an
 * absent field in a record, NaN in a batch); a heading of a full turn or more is the same direction, taken
 * mod 360 (720 is 0, as Android's bearing always is in [0, 360)). Infinities stay, for fixProblem to refuse.
 */
const knownOrNaN = (x: number) => (Number.isFinite(x) && x < 0 ? NaN : x);
const tidyHeading = (h: number) => (!Number.isFinite(h) ? h : h < 0 ? NaN : h % 360);
const TIDY = { speed: knownOrNaN, heading: tidyHeading, accuracy: knownOrNaN } as const;

/** A fix as written, tidied as above, and with `lng` (Google Maps, Leaflet) taken for a missing `lon`; the record itself when nothing changes. */
function tidyFix(r: object): object {
  const lng = !('lon' in r) && 'lng' in r && looksLikeFix({ ...r, lon: 0 });
  if (!lng && !looksLikeFix(r)) return r;
  let out: Record<string, unknown> | undefined;
  if (lng) {
    const { lng: lon, ...rest } = r as Record<string, unknown>;
    out = { ...rest, lon };
  }
  for (const k of ['speed', 'heading', 'accuracy'] as const) {
    const v = (r as Record<string, unknown>)[k];
    if (typeof v !== 'number') continue;
    const tidy = TIDY[k](v);
    if (Object.is(tidy, v)) continue;
    out ??= { ...r };
    if (Number.isNaN(tidy)) delete out[k];
    else out[k] = tidy;
  }
  return out ?? r;
}

/**
 * The records of a write, tidied (a copy where anything changes; the caller's records are left as they are).
 * Throws TypeError for a null or undefined record, and InvalidFixError for the first unusable fix (nothing
 * is written then), each naming the record's index.
 */
export function checkRecords(tag: string | number, records: readonly unknown[]): readonly unknown[] {
  let out: unknown[] | undefined;
  const which = (i: number) => (records.length > 1 ? `record ${i} ` : '');
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r === null || r === undefined) throw new TypeError(`write(${JSON.stringify(tag)}): ${which(i) || 'the record '}is ${r}, not a record`);
    const tidy = typeof r === 'object' ? tidyFix(r) : r;
    if (tidy !== r) (out ??= records.slice())[i] = tidy;
    if (!looksLikeFix(tidy)) continue;
    const p = fixProblem(tidy);
    if (p) throw new InvalidFixError(`write(${JSON.stringify(tag)}): ${which(i)}${describeDevice(tidy.deviceId)}: ${p.message}`);
  }
  return out ?? records;
}

/** A batch's optional columns tidied as above: the batch itself when nothing changes, else one with new columns. */
export function tidyBatch(b: GpsBatch): GpsBatch {
  let out: GpsBatch | undefined;
  for (const k of ['speed', 'heading', 'accuracy'] as const) {
    const col = b[k];
    for (let i = 0; i < b.n; i++) {
      const tidy = TIDY[k](col[i]);
      if (Object.is(tidy, col[i])) continue;
      out ??= { ...b };
      if (out[k] === col) out[k] = col.slice();
      out[k][i] = tidy;
    }
  }
  return out ?? b;
}

/** Throws InvalidFixError for the first unusable row of a batch. */
export function assertBatch(tag: string | number, b: GpsBatch): void {
  const { bad } = goodRows(b);
  const reasons = Object.keys(bad);
  if (reasons.length) throw new InvalidFixError(`write(${JSON.stringify(tag)}): the batch has unusable rows (${reasons.map((r) => `${bad[r as BadFixReason]} ${r}`).join(', ')})`);
}

/** quoted: an id with a control character in it (refused for that) cannot act on the terminal that shows the error */
const describeDevice = (id: unknown) => (typeof id === 'string' ? `fix of ${quoted(id.length > 40 ? id.slice(0, 40) + '…' : id)}` : 'fix');
