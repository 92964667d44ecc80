import { oneLine } from '../codecs/control-characters.ts';
import { readableF32 } from '../codecs/float32.ts';

/**
 * One readable line per alert, in columns: local time, kind and detect, device (or cell), what (fence,
 * the other device of a roaming pair, hotspot strength, road and speed) and where. Events of kinds it does not know still print, as their fields.
 * Every field is the event's own (a fence's name from the user's file, a field a function of the user's
 * made), so the line is made printable and kept one line: a terminal shows `\x1b[2J`, not clears itself, and a
 * device id with a newline in it does not print a second alert.
 */
type Event = Record<string, any>;

const kmh = (ms: unknown) => (typeof ms === 'number' ? `${Math.round(ms * 3.6)} km/h` : '');
const place = (lon: unknown, lat: unknown) => (typeof lon === 'number' && typeof lat === 'number' ? `${lon.toFixed(5)},${lat.toFixed(5)}` : '');

const two = (n: number) => String(n).padStart(2, '0');
/**
 * hh:mm:ss by the Date's own fields, not `toLocaleTimeString`, which maps ICU's locale data (log/thousands.ts);
 * local hours still read ICU's time zone data once (~0.5 MB, against ~8 MB for toLocaleTimeString)
 */
function clock(d: Date, utc: boolean): string {
  if (Number.isNaN(d.getTime())) return '--:--:--';
  return utc ? `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}` : `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function formatAlert(e: Event, utc = false): string {
  const iso = e.time ?? e.window?.end ?? (typeof e.t === 'number' ? new Date(e.t).toISOString() : undefined);
  const time = iso ? clock(new Date(iso), utc) : '--:--:--';
  const what = `${e.kind ?? '?'} ${e.detect ?? ''}`.trim();
  let who = String(e.deviceId ?? '');
  let detail: string;
  let where = place(e.point?.[0] ?? e.lon, e.point?.[1] ?? e.lat);
  if (e.kind === 'geofence') detail = `${e.fence?.name || e.fence?.id}${e.detect === 'dwell' ? ' (dwelling)' : ''}`;
  else if (e.kind === 'roam') detail = `${e.detect === 'nearby' ? 'near' : 'away from'} ${e.other?.deviceId}, ${Math.round(e.other?.distance)} m`;
  else if (e.kind === 'hotspot') {
    who = `cell ${e.cell?.id}`;
    detail = `z ${Number(e.z).toFixed(1)}, ${e.count} in the window`;
    const b = e.cell?.bbox;
    if (Array.isArray(b)) where = place((b[0] + b[2]) / 2, (b[1] + b[3]) / 2);
  } else if (e.kind === 'mapmatch' && e.detect === 'traversal') detail = `way ${e.wayId}: ${kmh(e.speed)} over ${Math.round(e.length)} m (limit ${kmh(e.limit)})`;
  else if (e.kind === 'mapmatch') detail = e.detect === 'matched' ? `way ${e.wayId} +${Math.round(e.offset)} m, ${kmh(e.speed)}` : 'no road near';
  else {
    const { kind: _k, detect: _d, deviceId: _id, id: _eventId, time: _t, t: _tt, lon: _lon, lat: _lat, point: _p, ...rest } = e;
    detail = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, readableF32)}`).join(' ');
  }
  return oneLine(`${time}  ${what.padEnd(18)} ${who.padEnd(14)} ${detail.padEnd(36)} ${where}`.trimEnd());
}
