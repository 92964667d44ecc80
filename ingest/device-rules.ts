import type { GpsRecord } from '../codecs/gps-record.ts';
import { thousands } from '../log/thousands.ts';

/**
 * What a device's fix is held to beyond the SDK's checks (codecs/fix-checks.ts), which serve replays and
 * tests as well as live sources: a device is live, with a real clock, talking to a receiver with one.
 */

/**
 * A device's time up to the GPS epoch is a clock not yet set: receivers without the time report 1970-01-01
 * or 1980-01-06 until they have it. The SDK's window starts at 1970 for replays and tests that count from
 * 0; a device's clock is a real one, and a fix it dates 1970 is decades wrong for everything downstream.
 */
export const GPS_EPOCH = Date.UTC(1980, 0, 6);

/**
 * How far ahead of this receiver's clock a device may date a fix. Whatever keeps a device's latest (the map
 * matcher's chain, the fleet index, the retained state topic) takes a fix only when it is newer than the
 * one before, so a fix dated ahead holds the device there over every true fix until the clock catches up:
 * a GPS week rollover (1024 weeks, gpsd dated a 2014 log 2034) for 19.6 years. GPS-set clocks and an
 * NTP-set receiver agree within a second, a phone set by hand within a minute or two; a local time sent
 * as UTC is an hour ahead or more. Five minutes lets the first through and refuses the others.
 */
export const MAX_AHEAD_MS = 5 * 60_000;

/** a protocol's "unknown" for a speed, course or accuracy (iOS reports -1 for each it lacks) read as no value, before any unit conversion */
export const unknownAsAbsent = (x: number | undefined): number | undefined => (x === -1 ? undefined : x);

/** a JSON message's speed, course or accuracy: a number, unless it is the protocol's "unknown" or not a number at all */
export const jsonMeasure = (v: unknown): number | undefined => (typeof v === 'number' ? unknownAsAbsent(v) : undefined);

export type DeviceRuleReason = 'time' | 'motion';

const MEASURES = [
  ['speed', 'm/s'],
  ['accuracy', 'm'],
  ['heading', '°'],
] as const;
const round = (v: number) => Math.round(v * 100) / 100;

const days = (ms: number) => Math.round(ms / 86_400_000);
const ahead = (ms: number) => (ms >= 86_400_000 ? `${thousands(days(ms))} day${days(ms) === 1 ? '' : 's'}` : ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`);

/**
 * Why a decoded device fix is refused by these rules, undefined when it is not. Decoders read a protocol's
 * "unknown" (-1, as iOS reports a speed, course or accuracy it lacks) as an absent field, so a negative
 * value that reaches here is one the device measured wrong, refused rather than taken as unknown.
 */
export function deviceRuleProblem(fix: GpsRecord, now: number): { reason: DeviceRuleReason; message: string } | undefined {
  if (fix.t <= GPS_EPOCH) return { reason: 'time', message: `t is ${new Date(fix.t).toISOString()}, not after 1980-01-06 (the GPS epoch): the device's clock is not set` };
  if (fix.t - now > MAX_AHEAD_MS) {
    return { reason: 'time', message: `t is ${new Date(fix.t).toISOString()}, ${ahead(fix.t - now)} ahead of this receiver's clock (at most ${ahead(MAX_AHEAD_MS)}): a GPS week rollover (1024 weeks), or a local time sent as UTC` };
  }
  for (const [k, unit] of MEASURES) {
    const v = fix[k];
    // in the record's units, which a protocol's may not be (OsmAnd's knots, Teltonika's km/h): said as such
    if (typeof v === 'number' && v < 0) return { reason: 'motion', message: `${k} is negative (${round(v)} ${unit} as read; a device's "unknown" is -1 or no value)` };
  }
  return undefined;
}
