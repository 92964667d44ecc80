import { tap, ignoreElements, type Observable } from 'rxjs';
import { looksLikeFix } from '../codecs/fix-checks.ts';
import { MAX_LATE_IN_A_ROW } from '../codecs/late-fix.ts';
import { readableF32 } from '../codecs/float32.ts';
import type { FunctionModule } from '../sfn/function-module.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import type { Logger } from '../log/logger.ts';
import { fieldProblem } from './query-params.ts';
import type { FleetIndex } from './fleet-index.ts';

// speed and heading travel as f32: kept as 1.22, not 1.2200000286102295, so answers need no replacer (a third
// of JSON.stringify's time for a nearby answer)
const readable = <T>(x: T): T => readableF32('', x) as T;

const FIX_FIELDS = new Set(['deviceId', 't', 'lon', 'lat', 'speed', 'heading', 'accuracy']);

/**
 * Records the fleet could not use, by reason: `unknown-vehicle`, a fence event of a vehicle with no
 * position yet, `bad-position`, a position off the globe or not a number, and `bad-field`, a field of a
 * fix that /v1/fields would refuse too (query-params.ts fieldProblem; the fix's position is kept) (all
 * lost: warned, rate-limited); `not-a-position`, what else shares the observed tags (a map matcher's traversals and
 * unmatched fixes), which says nothing about where a vehicle is.
 */
export type FleetSkips = Record<'unknown-vehicle' | 'bad-position' | 'bad-field' | 'not-a-position' | 'late', number>;

export const noSkips = (): FleetSkips => ({ 'unknown-vehicle': 0, 'bad-position': 0, 'bad-field': 0, 'not-a-position': 0, late: 0 });

const onGlobe = (lon: unknown, lat: unknown) => typeof lon === 'number' && typeof lat === 'number' && Math.abs(lon) <= 180 && Math.abs(lat) <= 90;

/**
 * Folds what the fleet function observes into the index: fixes (their fields beyond a fix's own become the
 * vehicle's user fields: a tracker or app that writes `status: free` sets it), map-matched fixes (the
 * snapped point and its edge), and geofence enter/exit events (the fences a vehicle is in).
 */
export function fleetFunction(index: FleetIndex, skipped: FleetSkips, log: Logger): FunctionModule {
  const warn = new RateLimitedLog(log);
  const badPosition = (r: Record<string, any>, lon: unknown, lat: unknown) => {
    skipped['bad-position']++;
    warn.warn('bad-position', `a position of "${r.deviceId}" off the globe: ${JSON.stringify([lon, lat])}`);
  };
  const position = (r: Record<string, any>, p: Parameters<FleetIndex['position']>[1]) => {
    if (index.position(r.deviceId, p)) return;
    skipped.late++;
    warn.warn('late', `a position of "${r.deviceId}" older than the one held (${new Date(p.t).toISOString()}) skipped as late; after ${MAX_LATE_IN_A_ROW} in a row the next is taken`);
  };
  const fold = (r: Record<string, any>) => {
    if (r.kind === 'mapmatch' && r.detect === 'matched') {
      if (!onGlobe(r.point?.[0], r.point?.[1])) return badPosition(r, r.point?.[0], r.point?.[1]);
      position(r, { t: r.t, lon: r.point[0], lat: r.point[1], speed: readable(r.speed), edge: r.edge, wayId: r.wayId });
    } else if (r.kind === 'geofence' && (r.detect === 'enter' || r.detect === 'exit')) {
      if (index.fence(r.deviceId, String(r.fence?.name || r.fence?.id), r.detect === 'enter')) return;
      skipped['unknown-vehicle']++;
      warn.warn('unknown-vehicle', `a ${r.detect} event of "${r.deviceId}", which has no position in the index (observe the tag its positions come on)`);
    } else if (r.kind === undefined && looksLikeFix(r)) {
      if (!onGlobe(r.lon, r.lat)) return badPosition(r, r.lon, r.lat);
      position(r, { t: r.t, lon: r.lon, lat: r.lat, speed: readable(r.speed ?? null), heading: readable(r.heading ?? null) });
      // most fixes carry no field of their own: nothing is allocated for them
      let fields: Record<string, unknown> | undefined;
      for (const k in r) {
        if (FIX_FIELDS.has(k)) continue;
        const value = (r as unknown as Record<string, unknown>)[k];
        const problem = fieldProblem(k, value);
        if (!problem) (fields ??= {})[k] = value;
        else {
          skipped['bad-field']++;
          warn.warn('bad-field', `a field of "${r.deviceId}" not kept: ${problem}`);
        }
      }
      if (fields) index.setFields(r.deviceId, fields);
    } else skipped['not-a-position']++;
  };
  return { default: (in$: Observable<Record<string, any>>) => in$.pipe(tap(fold), ignoreElements()) };
}
