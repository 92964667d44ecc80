import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { logger, setLogLevel } from '../log/logger.ts';
import type { GeofenceEvent } from '../kernels/geofence.ts';
import { connectSource } from '../source/connect-source.ts';
import { connectStreamFunction } from '../sfn/connect-stream-function.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { FENCE_WORKFLOW, serveWithSquares } from '../testing/squares-serve.ts';
import type { Workflow } from '../workflows/schema.ts';
import type { ServedWorkflow } from './serve-workflow.ts';
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

/** the workflow served, its events as "detect fence" lines, and `fix`: v0's next fix, inside f0 or out; v0 has entered f0 */
async function servedFence(run: (t: { served: ServedWorkflow; wf: Workflow; events: string[]; fix: (inside: boolean) => void; file: string }) => Promise<void>): Promise<void> {
  const { served, wf, trust, close } = await serveWithSquares(FENCE_WORKFLOW);
  try {
    const events: string[] = [];
    const collector = await connectStreamFunction({ name: 'events', observe: ['fences'], ...trust });
    collector.handle((in$) => in$.pipe(tap((e: GeofenceEvent) => events.push(`${e.detect} ${e.fence.id}`))));
    const source = await connectSource({ name: 'fleet', ...trust });
    let s = 0;
    const fix = (inside: boolean) => source.write('gps', [{ ...crossingFix(0, s++), lon: inside ? 0.005 : -0.005 }]);
    fix(true);
    await waitFor(() => events.length === 1, { what: () => `v0's enter, got ${events}` });
    await run({ served, wf, events, fix, file: join(wf.dir, 'squares.geojson') });
    await source.close();
    await collector.close();
  } finally {
    await close();
  }
}

const log = logger('test');

describe("a parked function's wake", () => {
  it('makes its kernel from what its host kept, and reads the files again once that is forgotten', { timeout: 60_000 }, () =>
    servedFence(async ({ served, wf, events, fix, file }) => {
      const f = wf.functions[0];
      const parked = await parkFunction(served, f);
      expect(parked.kernel).toBeDefined();
      expect(served.hosts.stats().kept).toBe(1);
      writeFileSync(file, JSON.stringify(renamed));
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
    }));

  it('that fails is reported, and the frames held for it wait for the next, which takes them in order', { timeout: 60_000 }, () =>
    servedFence(async ({ served, wf, events, fix, file }) => {
      const f = wf.functions[0];
      // nothing kept and no fence file: the wake's kernel cannot open, after its instance has joined the zipper
      const parked = await parkFunction(served, f);
      parked.kernel!.forget();
      rmSync(file);
      fix(false);
      fix(true);
      const load = () => served.zipper.functionLoad().find((l) => l.name === 'fence');
      // the source sends what was written in one turn as one frame
      await waitFor(() => load()?.waiting, { what: 'the two fixes held' });
      const held = load()!.waiting;
      await expect(wakeFunction(wf, served, log, f, parked)).rejects.toThrow(/no such file/);
      // sent to the instance as it joined, they come back once its goodbye reaches the zipper: whole, not blamed record by record
      await waitFor(() => load()?.waiting === held && load()?.instances === 0, { what: () => `the ${held} frames held again, got ${JSON.stringify(load())}` });
      expect(served.zipper.counters.redelivered).toBe(held);

      writeFileSync(file, JSON.stringify(SQUARES));
      await wakeFunction(wf, served, log, f, parked);
      await waitFor(() => events.length === 3, { what: () => `v0's exit and enter, got ${events}` });
      expect(events).toEqual(['enter f0', 'exit f0', 'enter f0']);
    }));
});
