import { filter, map, type Observable } from 'rxjs';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import type { FunctionContext } from '../function-module.ts';

/** Flags fixes faster than `params.limit` metres per second (default 30 m/s, 108 km/h). */
export const observe = ['gps'];
export const emit = 'speeding';

export default (in$: Observable<GpsRecord>, ctx: FunctionContext) => {
  const limit = Number(ctx.params.limit ?? 30);
  return in$.pipe(
    filter((r) => (r.speed ?? 0) > limit),
    map((r) => ({ kind: 'speeding', deviceId: r.deviceId, time: new Date(r.t).toISOString(), point: [r.lon, r.lat], speed: r.speed, limit })),
  );
};
