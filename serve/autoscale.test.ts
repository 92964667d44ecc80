import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { Autoscale, DEFAULT_AUTOSCALE } from './autoscale.ts';

/** The autoscale rule in virtual time: samples every 250 ms, and what it decides from them. */
describe('the autoscale rule', () => {
  const SAMPLE = 250;
  const rig = (bounds = { min: 1, max: 4 }) => {
    const clock = new ManualClock();
    const rule = new Autoscale(DEFAULT_AUTOSCALE, bounds, () => clock.now());
    /** samples `backlog` and `instances` every 250 ms for `ms`; the decisions, with the ms each came at */
    const run = (ms: number, backlog: number, instances: number) => {
      const out: [number, number][] = [];
      for (let t = 0; t < ms; t += SAMPLE) {
        const d = rule.decide(backlog, instances);
        if (d) out.push([clock.now(), d]);
        clock.advance(SAMPLE);
      }
      return out;
    };
    return { clock, rule, run };
  };

  it('adds an instance once the backlog per instance has stayed above the threshold for 2 s', () => {
    const { run } = rig();
    // 64 frames an instance is not above; 2 instances halve a backlog of 200
    expect(run(10_000, 64, 1)).toEqual([]);
    expect(run(10_000, 128, 2)).toEqual([]);
    expect(run(2_250, 129, 2)).toEqual([[22_000, 1]]);
  });

  it('does not add one for a burst shorter than 2 s, nor beyond --max', () => {
    const { run } = rig();
    expect(run(1_750, 1000, 1)).toEqual([]);
    expect(run(250, 0, 1)).toEqual([]);
    expect(run(1_750, 1000, 1)).toEqual([]);
    expect(run(10_000, 1000, 4)).toEqual([]);
  });

  it('removes one after 30 s with no backlog at all, never below --min (nor below 1 with --min 0)', () => {
    const { run } = rig({ min: 2, max: 4 });
    // a frame held at one sample in 30 s restarts the idle period
    expect(run(29_750, 0, 3)).toEqual([]);
    expect(run(250, 1, 3)).toEqual([]);
    expect(run(30_250, 0, 3)).toEqual([[60_000, -1]]);
    expect(run(60_000, 0, 2)).toEqual([]);
    const zero = rig({ min: 0, max: 2 });
    expect(zero.run(60_000, 0, 1)).toEqual([]);
  });

  it('judges a new size on its own samples: after a change the windows start over', () => {
    const { rule, run } = rig();
    expect(run(2_250, 500, 1)).toEqual([[2_000, 1]]);
    rule.restart();
    // still 500 frames over 2 instances: another 2 s before the next
    expect(run(2_250, 500, 2)).toEqual([[4_250, 1]]);
  });
});
