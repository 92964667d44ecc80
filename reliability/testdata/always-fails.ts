// A user's function that takes its thread down on the fix of device "boom", every time it sees it: by
// leaving the thread (mode "exit") or by never returning (mode "loop"). Every other fix goes through.
import { map, tap, type Observable } from 'rxjs';
import type { FunctionContext, GpsRecord } from '../../index.ts';

export default (in$: Observable<GpsRecord>, ctx: FunctionContext<{ mode: 'exit' | 'loop' }>) =>
  in$.pipe(
    tap((r) => {
      if (r.deviceId !== 'boom') return;
      if (ctx.params.mode === 'exit') process.exit(3);
      for (;;);
    }),
    map((r) => ({ by: 'poisoned', deviceId: r.deviceId })),
  );
