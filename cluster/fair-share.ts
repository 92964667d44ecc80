/**
 * How many of `partitions` the worker `me` should hold among `workers` (every live one, itself included):
 * an equal share, the remainder going one each to the first workers by name. Every worker computes it
 * from the same registrations, so the shares add up to the partitions and no two workers chase one.
 */
export function fairShare(partitions: number, workers: readonly string[], me: string): number {
  const sorted = [...new Set([...workers, me])].sort();
  const i = sorted.indexOf(me);
  return Math.floor(partitions / sorted.length) + (i < partitions % sorted.length ? 1 : 0);
}
