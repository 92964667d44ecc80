import { basename } from 'node:path';
import type { Source } from '../source/connect-source.ts';
import type { SourceContext } from '../source/source-module.ts';
import { didYouMean } from '../workflows/errors.ts';
import { parseSpeed } from './pacer.ts';
import { clock, Rate } from './rate.ts';
import { createTraffic, type TrafficConfig } from './traffic/create-traffic.ts';
import { DEFAULT_GPS, type GpsModel } from './traffic/gps-model.ts';
import { trafficSteps } from './traffic/traffic-steps.ts';
import { writePaced } from '../source/write-paced.ts';
import { checkParamFiles } from '../source/param-files.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { DEFAULT_PORTS } from '../ingest/ingest-params.ts';
import { osmandPoster } from '../ingest/osmand/osmand-client.ts';
import { thousands } from '../log/thousands.ts';

/**
 * The traffic simulator as a workflow source (`run: builtin:traffic`). Params: network, scenario, vehicles
 * (default 500), prefix (of device ids, default veh), seed, start, duration, speed ("10x", or "max"), incidents (strings
 * "lon,lat,radius_m,start,duration,slowdown" or maps), the GPS model (noise, interval, outlierRate,
 * outlierDistance, dropoutRate, dropoutSeconds, clockOffset, clockJitter) and tag (default gps).
 * Paths are relative to the workflow file. `as: osmand` sends the fixes as a fleet of Traccar Client phones
 * would, over HTTP to the osmand listener at `url` (default http://127.0.0.1:5055), instead of over QUIC:
 * the path a real device's fix takes, end to end.
 */
const GPS_KEYS = Object.keys(DEFAULT_GPS) as (keyof GpsModel)[];
const KEYS = ['network', 'scenario', 'vehicles', 'prefix', 'seed', 'start', 'duration', 'speed', 'incidents', 'tag', 'as', 'url', ...GPS_KEYS];
/** the device protocols the simulator can speak instead of the SDK */
const AS = ['osmand'];

export function trafficConfig(params: Record<string, unknown>): TrafficConfig {
  for (const k of Object.keys(params)) if (!KEYS.includes(k)) throw new Error(`unknown param "${k}"${didYouMean(k, KEYS)}; known: ${KEYS.join(', ')}`);
  if (params.as !== undefined && !AS.includes(String(params.as))) throw new Error(`as: "${String(params.as)}" is not a protocol the simulator speaks${didYouMean(String(params.as), AS)} (${AS.join(', ')})`);
  const p = params as Record<string, never>;
  return {
    network: p.network,
    scenario: p.scenario,
    vehicles: p.vehicles,
    prefix: p.prefix,
    seed: p.seed,
    start: p.start,
    duration: p.duration,
    incidents: p.incidents,
    gps: Object.fromEntries(GPS_KEYS.filter((k) => params[k] !== undefined).map((k) => [k, params[k]])),
  };
}

/** its files, read before serve starts it: a missing one stops serve at its field */
export const check = (params: Record<string, unknown>, dir: string): Promise<void> => checkParamFiles(params, dir, ['network', 'scenario']);

/** posing as phones (`as: osmand`), it posts to a listener and writes nothing to the zipper itself */
export const writes = (params: Record<string, unknown>): boolean => params.as !== 'osmand';

export default async function traffic(source: Source, ctx: SourceContext): Promise<void> {
  const speed = parseSpeed(ctx.params.speed ?? 1);
  const tag = String(ctx.params.tag ?? 'gps');
  const t = await createTraffic(trafficConfig(ctx.params), ctx.dir);
  const vehicles = t.sim.vehicles.length;
  ctx.log.info(
    `${vehicles} vehicles on ${basename(t.networkPath)} (${t.network.graph.edgeFrom.length} edges), ${t.incidents.length} incident(s), ` +
      `${Number.isFinite(speed) ? `${speed}x` : 'as fast as possible'}${t.duration ? ` for ${clock(t.duration)}` : ''}`,
  );
  const emit = emitter(source, ctx, tag);
  const rate = new Rate();
  const status = setInterval(() => ctx.log.info(`sim ${clock(t.sim.seconds)} · ${vehicles} vehicles · ${thousands(rate.total)} fixes · ${thousands(Math.round(rate.perSecond()))} fixes/s`), 30_000);
  try {
    for await (const { fixes } of trafficSteps(t.sim, { speed, duration: t.duration, signal: ctx.signal })) {
      rate.add(fixes.length);
      await emit(fixes);
    }
  } finally {
    clearInterval(status);
  }
  ctx.log.info(`finished at sim ${clock(t.sim.seconds)}: ${thousands(rate.total)} fixes`);
}

/** where the simulated fixes go: the SDK (the default), or a device listener over its own protocol */
function emitter(source: Source, ctx: SourceContext, tag: string): (fixes: GpsRecord[]) => Promise<void> {
  if (ctx.params.as !== 'osmand') return (fixes) => writePaced(source, tag, fixes);
  const url = String(ctx.params.url ?? `http://127.0.0.1:${DEFAULT_PORTS.osmand}`);
  const warn = new RateLimitedLog(ctx.log);
  const poster = osmandPoster(url, { signal: ctx.signal, onUnsent: (why) => warn.warn('unsent', `a fix not delivered: ${why}`) });
  ctx.report?.(() => poster.stats());
  ctx.log.info(`sending fixes as Traccar Client phones do, to the osmand listener at ${url}`);
  return (fixes) => poster.send(fixes);
}
