import { ignoreElements, tap } from 'rxjs';
import { connectSource } from '../source/connect-source.ts';
import { connectStreamFunction } from '../sfn/connect-stream-function.ts';
import { logger, setLogLevel } from '../log/logger.ts';
import { parkFunction, wakeFunction } from '../serve/park.ts';
import { crossingFix } from '../testing/fence-squares.ts';
import { FENCE_WORKFLOW, serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { now } from './stats.ts';

/**
 * Scale to zero's wake as serve does it (serve/park.ts), in this process: a geofence function that has seen
 * `devices` devices is parked (its state taken, its instance closed, its kernel's prepared params kept by its
 * host); then a fix is written for it and the function woken with that state; timed from the write to its
 * event at a function over QUIC. The wake is
 * what a scaled-to-zero function's first frame waits for.
 */
export async function servedWakes(runs: number, devices: number): Promise<number[]> {
  setLogLevel('warn');
  const { served, wf, trust, close } = await serveWithSquares(FENCE_WORKFLOW);
  try {
    let events = 0;
    let heard: (() => void) | undefined;
    const collector = await connectStreamFunction({ name: 'events', observe: ['fences'], ...trust });
    collector.handle((in$) =>
      in$.pipe(
        tap(() => {
          events++;
          heard?.();
        }),
        ignoreElements(),
      ),
    );
    const source = await connectSource({ name: 'fleet', ...trust });
    for (let s = 0; s < 12; s++) source.write('gps', Array.from({ length: devices }, (_, v) => crossingFix(v, s)));
    await source.flush(60_000);
    // every device whose row crosses f0 has entered it
    await waitFor(() => events, { until: (n) => n >= Math.min(devices, 40), ms: 60_000, what: 'the first enters' });
    const f = wf.functions[0];
    const log = logger('bench');
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const parked = await parkFunction(served, f);
      // v0 leaves f0, comes back, leaves…: one event each time
      const fix = { ...crossingFix(0, 12 + i), lon: i % 2 ? 0.005 : -0.005 };
      const got = new Promise<void>((r) => (heard = r));
      const t0 = now();
      source.write('gps', [fix]);
      await wakeFunction(wf, served, log, f, parked);
      await got;
      ms.push(now() - t0);
    }
    await source.close();
    await collector.close();
    return ms.sort((a, b) => a - b);
  } finally {
    await close();
  }
}
