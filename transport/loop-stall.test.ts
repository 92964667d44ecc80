import { describe, expect, it } from 'vitest';
import { loopStalled } from './loop-stall.ts';

describe('loopStalled', () => {
  it('counts a synchronous block of the event loop as stalled time, while it is under way too', async () => {
    loopStalled(performance.now());
    await new Promise((r) => setTimeout(r, 120)); // the meter ticks at least once
    const before = loopStalled(performance.now());
    const end = performance.now() + 400;
    while (performance.now() < end); // the loop blocked: no timer runs
    // at most a tick and the jitter floor of it are not counted (a lower bound: a slow machine only adds)
    expect(loopStalled(performance.now()) - before).toBeGreaterThanOrEqual(400 - 50 - 20);
  });
});
