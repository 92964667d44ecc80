import { map, type Observable } from 'rxjs';

/** An alert per fix, after 5 ms of work: a function that falls behind a source, so a stop finds frames in hand. */
export default (in$: Observable<{ deviceId: string; t: number }>) =>
  in$.pipe(
    map((r) => {
      const end = Date.now() + 5;
      while (Date.now() < end);
      return { kind: 'slow', detect: 'seen', deviceId: r.deviceId, time: new Date(r.t).toISOString() };
    }),
  );
