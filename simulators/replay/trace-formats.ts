import { fixProblem } from '../../codecs/fix-checks.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';

/**
 * GPS traces as text, recognised by their first line: the Newson & Krumm Seattle file, the Kubička `.track`
 * format, GeoLife's `;` CSV, GPX, JSON lines, and any CSV whose header names lon/lat (and time, and a device) columns —
 * the Liverpool bus file among them. Bad rows are counted, not fatal: a row that cannot be read, and a fix that
 * `write()` would refuse (a latitude of 95, a speed past 1,000 knots), which would otherwise end a replay to a
 * zipper at that row.
 */
export interface Trace {
  format: string;
  records: GpsRecord[];
  /** rows that could not be read, with the first few reasons */
  bad: number;
  badSamples: string[];
}

const MONTHS: Record<string, string> = { jan: '01', feb: '02', mar: '03', apr: '04', may: '05', jun: '06', jul: '07', aug: '08', sep: '09', oct: '10', nov: '11', dec: '12' };

const LON = ['lon', 'lng', 'long', 'longitude', 'x'];
const LAT = ['lat', 'latitude', 'y'];
const TIME = ['t', 'time', 'timestamp', 'datetime', 'date_time', 'epoch'];
const DEVICE = ['deviceid', 'device_id', 'device', 'vehicle_id', 'vehicle', 'trajectory_id', 'id', 'track_id'];

/** why a row is no usable fix, or undefined */
const rowProblem = (r: GpsRecord): string | undefined =>
  !Number.isFinite(r.t) || !Number.isFinite(r.lon) || !Number.isFinite(r.lat) ? 'unreadable time or coordinates' : fixProblem(r)?.message;

const norm = (h: string) => h.trim().replace(/^"|"$/g, '').toLowerCase().replace(/\s*\(.*\)$/, '');

/** epoch ms from a number (seconds or ms) or an ISO-ish date string (UTC unless it says otherwise) */
export function parseTime(v: string): number {
  const s = v.trim().replace(/^"|"$/g, '');
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n > 1e11 ? n : n * 1000;
  }
  const iso = s.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + 'Z');
}

export function parseTrace(text: string, name = 'trace'): Trace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return { format: 'empty', records: [], bad: 0, badSamples: [] };
  const first = lines[0];
  const records: GpsRecord[] = [];
  const badSamples: string[] = [];
  let bad = 0;
  const add = (lineNo: number, r: GpsRecord | string) => {
    const problem = typeof r === 'string' ? r : rowProblem(r);
    if (problem) {
      bad++;
      if (badSamples.length < 5) badSamples.push(`line ${lineNo}: ${problem}`);
    } else records.push(r as GpsRecord);
  };

  if (/^\s*<(\?xml|gpx)/.test(first)) return parseGpx(text, name);
  // JSON lines of fixes, as geoflux sim writes them: {deviceId, t (or time), lon, lat, ...}
  if (first.trimStart().startsWith('{')) {
    lines.forEach((l, i) => {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l);
      } catch {
        return add(i + 1, 'not JSON');
      }
      const t = typeof o.t === 'number' ? o.t : parseTime(String(o.time ?? o.t ?? ''));
      add(i + 1, { ...o, deviceId: String(o.deviceId ?? name), t, lon: Number(o.lon), lat: Number(o.lat) } as GpsRecord);
    });
    return { format: 'jsonl', records, bad, badSamples };
  }
  // Newson & Krumm: "Date (UTC)\tTime (UTC)\tLatitude\tLongitude"
  if (/^date \(utc\)\ttime \(utc\)\tlatitude\tlongitude/i.test(first)) {
    lines.slice(1).forEach((l, i) => {
      const [d, t, lat, lon] = l.split('\t');
      const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(d ?? '');
      if (!m) return add(i + 2, `bad date "${d}"`);
      add(i + 2, { deviceId: name, t: Date.parse(`${m[3]}-${MONTHS[m[2].toLowerCase()]}-${m[1].padStart(2, '0')}T${t}Z`), lon: Number(lon), lat: Number(lat) });
    });
    return { format: 'newson-krumm', records, bad, badSamples };
  }
  // Kubička .track: "lon lat t" per line, no header
  if (/^-?\d+(\.\d+)?\s+-?\d+(\.\d+)?\s+-?\d+(\.\d+)?\s*$/.test(first)) {
    lines.forEach((l, i) => {
      const [lon, lat, t] = l.trim().split(/\s+/).map(Number);
      add(i + 1, { deviceId: name, t: t * 1000, lon, lat });
    });
    return { format: 'kubicka-track', records, bad, badSamples };
  }
  // any delimited file with a header naming its columns
  const sep = first.includes('\t') ? '\t' : first.split(';').length > first.split(',').length ? ';' : ',';
  const header = first.split(sep).map(norm);
  // the first name in each list that the header has wins: vehicle_id before a row id
  const col = (names: string[]) => names.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
  const [lonC, latC, tC, devC] = [col(LON), col(LAT), col(TIME), col(DEVICE)];
  if (lonC < 0 || latC < 0) throw new Error(`${name}: cannot find longitude and latitude columns in the header "${first.slice(0, 120)}"`);
  // what a fix may also say, when the file has the column and the row a number in it (geoflux sim writes all three)
  const optional = (['speed', 'heading', 'accuracy'] as const).map((k) => [k, header.indexOf(k)] as const).filter(([, c]) => c >= 0);
  lines.slice(1).forEach((l, i) => {
    const cells = l.split(sep);
    const t = tC >= 0 ? parseTime(cells[tC] ?? '') : i * 1000;
    const dev = devC >= 0 ? (cells[devC] ?? '').replace(/^"|"$/g, '') : name;
    const r: GpsRecord = { deviceId: dev || name, t, lon: Number(cells[lonC]), lat: Number(cells[latC]) };
    for (const [k, c] of optional) if (cells[c]?.trim() && Number.isFinite(Number(cells[c]))) r[k] = Number(cells[c]);
    add(i + 2, r);
  });
  return { format: sep === ';' ? 'csv;' : sep === '\t' ? 'tsv' : 'csv', records, bad, badSamples };
}

/**
 * GPX 1.0/1.1 track and route points, read with patterns rather than an XML parser: a GPX point is one
 * flat element, and a broken one is a bad row like any other. Each named `<trk>` is a device.
 */
function parseGpx(text: string, name: string): Trace {
  const records: GpsRecord[] = [];
  const badSamples: string[] = [];
  let bad = 0;
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const attr = (tag: string, a: string) => new RegExp(`\\b${a}\\s*=\\s*["']([^"']*)["']`).exec(tag)?.[1];
  const tracks = [...text.matchAll(/<(trk|rte)\b[\s\S]*?<\/\1>/g)];
  for (const trk of tracks.length ? tracks : [Object.assign([text], { index: 0 }) as RegExpMatchArray]) {
    const device = /<name>\s*(?:<!\[CDATA\[)?([^<\]]*?)(?:\]\]>)?\s*<\/name>/.exec(trk[0].replace(/<(trkpt|rtept)\b[\s\S]*$/, ''))?.[1] || name;
    for (const m of trk[0].matchAll(/<(trkpt|rtept)\b([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/g)) {
      const lon = Number(attr(m[2], 'lon'));
      const lat = Number(attr(m[2], 'lat'));
      const time = /<time>([^<]*)<\/time>/.exec(m[4] ?? '')?.[1];
      const speed = Number(/<speed>([^<]*)<\/speed>/.exec(m[4] ?? '')?.[1]);
      const r: GpsRecord = { deviceId: device, t: time ? parseTime(time) : NaN, lon, lat };
      if (Number.isFinite(speed)) r.speed = speed;
      const problem = time ? rowProblem(r) : 'a point without <time>';
      if (!problem) records.push(r);
      else {
        bad++;
        if (badSamples.length < 5) badSamples.push(`line ${lineAt(trk.index! + m.index!)}: ${problem}`);
      }
    }
  }
  return { format: 'gpx', records, bad, badSamples };
}
