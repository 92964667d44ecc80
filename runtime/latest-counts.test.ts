import { describe, expect, it } from 'vitest';
import { LatestCounts } from './latest-counts.ts';

describe('the latest counts of a thread', () => {
  it('leaves out a report that arrives after a newer one (a pong behind an ack)', () => {
    const c = new LatestCounts();
    c.take({ n: 2, stats: { received: 20 } });
    c.take({ n: 1, stats: { received: 10 } });
    expect(c.value).toEqual({ received: 20 });
    c.take({ stats: { spooled: 3 } });
    expect(c.value).toEqual({ spooled: 3 });
  });

  it("takes a host instance's own report into the whole, and keeps it against an older whole", () => {
    const c = new LatestCounts();
    c.take({ n: 1, stats: { 1: { received: 10 }, 2: { received: 5 } } });
    c.take({ n: 3, slot: 1, stats: { received: 30 } });
    expect(c.value).toEqual({ 1: { received: 30 }, 2: { received: 5 } });
    // the pong was taken before that ack, and arrives after it
    c.take({ n: 2, stats: { 1: { received: 20 }, 2: { received: 6 } } });
    expect(c.value).toEqual({ 1: { received: 30 }, 2: { received: 6 } });
    c.take({ n: 2, slot: 2, stats: { received: 1 } });
    expect(c.value).toEqual({ 1: { received: 30 }, 2: { received: 6 } });
    c.take({ n: 4, stats: { 1: { received: 31 } } });
    expect(c.value).toEqual({ 1: { received: 31 } });
  });
});
