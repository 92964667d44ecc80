import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPath, WorkflowError } from '../../workflows/errors.ts';
import { checkGpsModel, DEFAULT_GPS } from './gps-model.ts';
import { checkIncident, parseIncident, type Incident } from './incidents.ts';
import type { Fleet } from './traffic-sim.ts';

/**
 * A scenario file combines fleets and incidents on one network:
 *
 *   network: ../shared/data/osm/monaco.osm.pbf   # relative to this file
 *   seed: 7
 *   start: 2026-01-01T08:00:00Z
 *   duration: 3600
 *   fleets:
 *     - { name: car, vehicles: 400 }
 *     - { name: bus, vehicles: 20, speedFactor: 0.8, interval: 5, noise: 10 }
 *   incidents:
 *     - "7.4236,43.7376,150,60,1800,0.8"            # lon,lat,radius_m,start,duration,slowdown
 *     - { lon: 7.41, lat: 43.73, radius: 100, start: 0, duration: 600, slowdown: 0.7 }
 */
export interface Scenario {
  network?: string;
  seed?: number;
  start?: number;
  duration?: number;
  fleets: Fleet[];
  incidents: Incident[];
}

const num = z.number().finite();
const gpsFields = {
  interval: num.positive().optional(),
  noise: num.min(0).optional(),
  outlierRate: num.min(0).max(1).optional(),
  outlierDistance: num.min(0).optional(),
  dropoutRate: num.min(0).max(1).optional(),
  dropoutSeconds: z.tuple([num.min(0), num.min(0)]).optional(),
  clockOffset: num.min(0).optional(),
  clockJitter: num.min(0).optional(),
};
const fleetSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "-" and "_" (it prefixes device ids)'),
  vehicles: z.number().int().min(1).max(1_000_000),
  prefix: z.string().min(1).optional(),
  speedFactor: num.positive().optional(),
  ...gpsFields,
});
const incidentSchema = z.union([
  z.string(),
  z.strictObject({ lon: num, lat: num, radius: num, start: num.default(0), duration: num, slowdown: num }),
]);
const scenarioSchema = z.strictObject({
  network: z.string().min(1).optional(),
  seed: z.number().int().optional(),
  start: z.union([z.string(), z.date(), num]).optional(),
  duration: num.positive().optional(),
  gps: z.strictObject(gpsFields).optional(),
  fleets: z.array(fleetSchema).min(1, 'needs at least one fleet'),
  incidents: z.array(incidentSchema).default([]),
});

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new WorkflowError(file, 1, 1, '(file)', `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseScenario(text, file);
}

/** a scenario from YAML text; a problem is reported as `file:line:col field: reason` */
export function parseScenario(text: string, file: string): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const fail = (path: (string | number)[], reason: string, offset?: number): never => {
    const node = doc.getIn(path, true) as { range?: [number, number] } | undefined;
    const { line, col } = lc.linePos(offset ?? node?.range?.[0] ?? 0);
    throw new WorkflowError(file, line, col, formatPath(path), reason);
  };
  if (doc.errors.length) fail([], doc.errors[0].message.split('\n')[0], doc.errors[0].pos[0]);
  const parsed = scenarioSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    fail(issue.path as (string | number)[], issue.message);
  }
  const s = parsed.data!;
  const located = <T>(path: (string | number)[], f: () => T): T => {
    try {
      return f();
    } catch (e) {
      return fail(path, (e as Error).message);
    }
  };
  const start = s.start === undefined ? undefined : typeof s.start === 'number' ? s.start : new Date(s.start).getTime();
  if (start !== undefined && !Number.isFinite(start)) fail(['start'], `"${String(s.start)}" is not a date (use ISO 8601, e.g. 2026-01-01T08:00:00Z)`);
  const fleets = s.fleets.map(({ name, vehicles, prefix, speedFactor, ...gps }, i): Fleet => {
    const model = { ...DEFAULT_GPS, ...s.gps, ...gps };
    located(['fleets', i], () => checkGpsModel(model, `fleet "${name}"`));
    return { name, vehicles, prefix, speedFactor, gps: model };
  });
  const incidents = s.incidents.map((x, i) => located(['incidents', i], () => (typeof x === 'string' ? parseIncident(x) : checkIncident(x))));
  return {
    network: s.network === undefined ? undefined : resolve(dirname(resolve(file)), s.network),
    seed: s.seed,
    start,
    duration: s.duration,
    fleets,
    incidents,
  };
}
