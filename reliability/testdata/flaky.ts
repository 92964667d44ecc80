// A user's function that fails in the ways user code does, once: on the fix of device "boom", when the
// marker file named in its params does not exist yet (it creates it first), so the instance that replaces
// it handles the same fix and goes on.
import { existsSync, writeFileSync } from 'node:fs';
import { map, tap, type Observable } from 'rxjs';
import type { FunctionContext, GpsRecord } from '../../index.ts';

type Mode = 'timer' | 'rejection' | 'loop' | 'sync';

export default (in$: Observable<GpsRecord>, ctx: FunctionContext<{ mode: Mode; marker: string }>) =>
  in$.pipe(
    tap((r) => {
      if (r.deviceId !== 'boom' || existsSync(ctx.params.marker)) return;
      writeFileSync(ctx.params.marker, ctx.params.mode);
      if (ctx.params.mode === 'timer') setTimeout(() => { throw new Error('boom, from a timer'); });
      if (ctx.params.mode === 'rejection') void Promise.reject(new Error('boom, a rejection nobody handles'));
      if (ctx.params.mode === 'loop') for (;;);
      if (ctx.params.mode === 'sync') throw new Error('boom, thrown by the handler');
    }),
    map((r) => ({ by: 'flaky', deviceId: r.deviceId })),
  );
