import { describe, expect, it } from 'vitest';
import { HashRing } from './hash-ring.ts';

const keys = Array.from({ length: 2000 }, (_, i) => `vehicle-${i}`);
const ring = (ids: string[]) => new HashRing(ids.map((id) => ({ id, value: id })));

describe('HashRing', () => {
  it('spreads keys over every member', () => {
    const r = ring(['a', 'b', 'c']);
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(r.owner(k)!, (counts.get(r.owner(k)!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c']);
    for (const c of counts.values()) expect(c).toBeGreaterThan(keys.length / 6);
  });

  it('moves only the leaving member’s keys when one leaves', () => {
    const before = ring(['a', 'b', 'c']);
    const after = ring(['a', 'c']);
    for (const k of keys) if (before.owner(k) !== 'b') expect(after.owner(k)).toBe(before.owner(k));
  });

  it('is empty-safe', () => {
    expect(ring([]).owner('x')).toBeUndefined();
  });
});
