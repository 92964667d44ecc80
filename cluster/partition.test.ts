import { describe, expect, it } from 'vitest';
import { partitionFilter, partitionOf, partitionSubject } from './partition.ts';

describe('partitionOf', () => {
  it('is the fixture every process and language must reproduce', () => {
    // computed once and pinned: a change here moves devices between partitions and strands their state
    const fixture: Record<string, number> = { 'veh-0': 2, 'veh-1': 1, 'veh-348': 0, 'truck-17': 4, a: 3, '': 3, 'émetteur-π': 1 };
    for (const [id, p] of Object.entries(fixture)) expect(partitionOf(id, 8), id).toBe(p);
  });

  it('spreads 40,000 devices evenly over 16 partitions', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 40_000; i++) counts[partitionOf(`veh-${i}`, 16)]++;
    // 2,500 each on average; a binomial's sd is ~48, so ±6 % is more than 3 sd
    for (const c of counts) expect(Math.abs(c - 2_500)).toBeLessThan(150);
  });

  it('names the subjects a publisher writes and a reader filters', () => {
    expect(partitionSubject('city', 'gps', 3)).toBe('city.gps.3');
    expect(partitionFilter('city', 3)).toBe('city.*.3');
  });
});
