import { concatMap, filter, map, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { FrameChannel } from '../transport/types.ts';
import { kernel } from './operators/kernel.ts';
import { RecordPipeline } from './record-pipeline.ts';

/** a channel that only records whether it was paused */
const channel = () => {
  const c = { paused: 0, resumed: 0, pause: () => void c.paused++, resume: () => void c.resumed++ };
  return c as unknown as FrameChannel & { paused: number; resumed: number };
};
const events = () => {
  const e = { received: 0, failed: [] as unknown[], inFlight: 0, max: 0 };
  return Object.assign(e, {
    on: { received: () => void e.received++, failed: (_: Error, r: unknown) => void e.failed.push(r), inFlight: (n: number) => ((e.inFlight = n), (e.max = Math.max(e.max, n))) },
  });
};

describe('a record pipeline', () => {
  it('finishes a frame only once every record is through a slow operator, with its outputs in record order', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ flush }) => {
      const ev = events();
      // each record waits as many ms as its value: the last record of the frame finishes first
      const p = new RecordPipeline((in$) => in$.pipe(concatMap((ms: number) => timer(ms).pipe(map(() => ms * 10)))), 100, ev.on);
      const done: unknown[][] = [];
      p.push([30, 20, 10], channel(), (out) => done.push(out));
      expect(done).toEqual([]);
      expect(p.busy).toBe(true);
      flush();
      expect(done).toEqual([[300, 200, 100]]);
      expect(p.busy).toBe(false);
    });
  });

  it('counts a record that is filtered out as through, and one that fails as failed, alone', () => {
    const ev = events();
    const p = new RecordPipeline(
      (in$) =>
        in$.pipe(
          filter((r: number) => r !== 2),
          map((r: number) => {
            if (r === 3) throw new Error('bad');
            return r;
          }),
        ),
      100,
      ev.on,
    );
    const done: unknown[][] = [];
    p.push([1, 2, 3, 4], channel(), (out) => done.push(out));
    expect(done).toEqual([[1, 4]]);
    expect(ev.failed).toEqual([3]);
    expect(ev.received).toBe(4);
  });

  it('keeps at most `window` records in the pipeline, pausing the channel until they drain', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ flush }) => {
      const ev = events();
      const ch = channel();
      const p = new RecordPipeline((in$) => in$.pipe(concatMap((r: number) => timer(5).pipe(map(() => r)))), 4, ev.on);
      const done: unknown[][] = [];
      for (let f = 0; f < 3; f++) p.push([f * 3, f * 3 + 1, f * 3 + 2], ch, (out) => done.push(out));
      expect(ev.inFlight).toBe(4);
      expect(ch.paused).toBe(1);
      flush();
      expect(ev.max).toBe(4);
      expect(ch.resumed).toBe(1);
      expect(done).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    });
  });

  it('refuses a kernel operator, whose per-device state would live for one record, saying what to use instead', () => {
    const errors: string[] = [];
    const p = new RecordPipeline((in$) => in$.pipe(kernel('geofence', { fences: { type: 'FeatureCollection', features: [] } })), 8, {
      received: () => {},
      failed: (e) => void errors.push(e.message),
      inFlight: () => {},
    });
    p.push([{ deviceId: 'a', t: 0, lon: 0, lat: 0 }], channel(), () => {});
    expect(errors).toEqual([expect.stringMatching(/kernel\(\) keeps per-device state across records.*handleBatches/)]);
  });
});
