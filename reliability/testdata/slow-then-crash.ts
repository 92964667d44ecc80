// A user's function with a slow operator (each fix waits 20 ms in a concatMap), which crashes its thread
// once, from a timer, after it has seen the fix of device "boom" (when the marker file in its params does
// not exist yet): the records its operators held when it died must come again, and none twice.
import { existsSync, writeFileSync } from 'node:fs';
import { concatMap, map, tap, timer, type Observable } from 'rxjs';
import type { FunctionContext, GpsRecord } from '../../index.ts';

export default (in$: Observable<GpsRecord>, ctx: FunctionContext<{ marker: string }>) =>
  in$.pipe(
    concatMap((r) => timer(20).pipe(map(() => r))),
    tap((r) => {
      if (r.deviceId !== 'boom' || existsSync(ctx.params.marker)) return;
      writeFileSync(ctx.params.marker, 'crashed');
      setTimeout(() => {
        throw new Error('boom, from a timer');
      });
    }),
    map((r) => ({ by: 'slow', deviceId: r.deviceId })),
  );
