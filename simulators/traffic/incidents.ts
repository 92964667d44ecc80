import { metresFrom } from '../../network/geo.ts';

/**
 * An incident slows every vehicle inside a circle for a while: `slowdown` is the share of speed lost
 * (0.8: vehicles crawl at a fifth of their usual speed). Times are seconds after the simulation starts.
 */
export interface Incident {
  lon: number;
  lat: number;
  /** metres */
  radius: number;
  start: number;
  duration: number;
  slowdown: number;
}

const FIELDS = ['lon', 'lat', 'radius_m', 'start', 'duration', 'slowdown'] as const;

/** `--incident "lon,lat,radius_m,start,duration,slowdown"` */
export function parseIncident(text: string): Incident {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length !== FIELDS.length) throw new Error(`incident "${text}": expected ${FIELDS.join(',')} (6 numbers), got ${parts.length}`);
  const [lon, lat, radius, start, duration, slowdown] = parts.map((p, i) => {
    const x = Number(p);
    if (p === '' || !Number.isFinite(x)) throw new Error(`incident "${text}": ${FIELDS[i]} "${p}" is not a number`);
    return x;
  });
  return checkIncident({ lon, lat, radius, start, duration, slowdown }, `incident "${text}"`);
}

export function checkIncident(i: Incident, what = 'incident'): Incident {
  const bad = (field: string, why: string) => new Error(`${what}: ${field} ${why}`);
  if (Math.abs(i.lon) > 180 || Math.abs(i.lat) > 90) throw bad('lon,lat', `(${i.lon}, ${i.lat}) is not a position`);
  if (!(i.radius > 0)) throw bad('radius_m', 'must be > 0');
  if (!(i.start >= 0)) throw bad('start', 'must be ≥ 0 seconds');
  if (!(i.duration > 0)) throw bad('duration', 'must be > 0 seconds');
  if (!(i.slowdown > 0 && i.slowdown < 1)) throw bad('slowdown', 'is the share of speed lost, between 0 and 1 (0.8: a fifth of the usual speed)');
  return i;
}

/** the speed multiplier at a place and time: the strongest of the incidents active there */
export function incidentFactor(incidents: readonly Incident[], lon: number, lat: number, seconds: number): number {
  let f = 1;
  for (const i of incidents) {
    if (seconds < i.start || seconds >= i.start + i.duration) continue;
    const [dx, dy] = metresFrom(i.lon, i.lat, lon, lat);
    if (dx * dx + dy * dy <= i.radius * i.radius) f = Math.min(f, 1 - i.slowdown);
  }
  return f;
}
