import { expect, it } from 'vitest';
import { fairShare } from './fair-share.ts';

it('splits the partitions so the shares add up, the remainder to the first workers by name', () => {
  const workers = ['w-c', 'w-a', 'w-b'];
  expect(workers.map((w) => fairShare(8, workers, w))).toEqual([2, 3, 3]);
  expect(fairShare(8, [], 'alone')).toBe(8);
  expect(['a', 'b', 'c', 'd', 'e'].map((w) => fairShare(3, ['a', 'b', 'c', 'd', 'e'], w))).toEqual([1, 1, 1, 0, 0]);
});
