import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { logger, setLogLevel } from '../log/logger.ts';
import type { GeofenceEvent } from '../kernels/geofence.ts';
import { connectSource } from '../source/connect-source.ts';
import { connectStreamFunction } from '../sfn/connect-stream-function.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { FENCE_WORKFLOW, serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parkFunction, wakeFunction } from './park.ts';

setLogLevel('silent');

/**
 * A geofence in the host threads parked and woken as serve's scale to zero does it (serve/park.ts): its
 * host keeps what made its kernel (the fences read and compiled), and the wake makes its kernel from that,
 * so the fence file is not read again: rewritten between park and wake (its fences renamed g0…), the woken
 * kernel still names f0, the fences its restored state was built against. Once forgotten (its function
 * undeployed or replaced), nothing is kept, and a wake reads the file as it is.
 */

const renamed = { ...SQUARES, features: SQUARES.features.map((f) => ({ ...f, id: f.id.replace('f', 'g') })) };

describe("a parked function's wake", () => {
  it('makes its kernel from what its host kept, and reads the files again once that is forgotten', { timeout: 60_000 }, async () => {
    const { served, wf, trust, close } = await serveWithSquares(FENCE_WORKFLOW);
    try {
      const events: string[] = [];
      const collector = await connectStreamFunction({ name: 'events', observe: ['fences'], ...trust });
      collector.handle((in$) => in$.pipe(tap((e: GeofenceEvent) => events.push(`${e.detect} ${e.fence.id}`))));
      const source = await connectSource({ name: 'fleet', ...trust });
      const f = wf.functions[0];
      const log = logger('test');
      let s = 0;
      const fix = (inside: boolean) => source.write('gps', [{ ...crossingFix(0, s++), lon: inside ? 0.005 : -0.005 }]);

      fix(true);
      await waitFor(() => events.length === 1, { what: () => `v0's enter, got ${events}` });

      const parked = await parkFunction(served, f);
      expect(parked.kernel).toBeDefined();
      expect(served.hosts.stats().kept).toBe(1);
      writeFileSync(join(wf.dir, 'squares.geojson'), JSON.stringify(renamed));
      fix(false);
      await wakeFunction(wf, served, log, f, parked);
      // its state restored (an exit, v0 was inside) from the fences it had (f0, not the file's g0)
      await waitFor(() => events.length === 2, { what: () => `v0's exit, got ${events}` });
      expect(events).toEqual(['enter f0', 'exit f0']);
      expect(served.hosts.stats().kept).toBe(0);

      const again = await parkFunction(served, f);
      expect(served.hosts.stats().kept).toBe(1);
      again.kernel!.forget();
      expect(served.hosts.stats().kept).toBe(0);
      fix(true);
      await wakeFunction(wf, served, log, f, again);
      await waitFor(() => events.length === 3, { what: () => `v0's enter, got ${events}` });
      expect(events[2]).toBe('enter g0');

      await source.close();
      await collector.close();
    } finally {
      await close();
    }
  });
});
