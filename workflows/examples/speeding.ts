// A stream function as its own process:
//   geoflux serve workflows/examples/remote-sfn.yaml
//   geoflux run workflows/examples/speeding.ts --cert-hash <the hash serve printed>
import { filter, map, type Observable } from 'rxjs';
import type { FunctionContext, GpsRecord } from 'geoflux';

export const name = 'speeding';
export const observe = ['gps'];
export const emit = 'speeding';

const KMH = 3.6;

export default (in$: Observable<GpsRecord>, ctx: FunctionContext<{ limitKmh?: number }>) => {
  const limit = (ctx.params.limitKmh ?? 110) / KMH;
  return in$.pipe(
    filter((r) => (r.speed ?? 0) > limit),
    map((r) => ({ kind: 'speeding', deviceId: r.deviceId, time: new Date(r.t).toISOString(), kmh: Math.round((r.speed ?? 0) * KMH) })),
  );
};
