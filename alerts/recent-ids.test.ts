import { expect, it } from 'vitest';
import { RecentIds } from './recent-ids.ts';

it('keeps the first of each id, and forgets the oldest beyond its capacity', () => {
  const seen = new RecentIds(2);
  expect(['a', 'b', 'a', 'c', 'b', 'a'].map((id) => seen.first(id))).toEqual([true, true, false, true, false, true]);
});
