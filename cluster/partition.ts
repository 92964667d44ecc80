import { hash32 } from '../zipper/hash-ring.ts';

/**
 * The partition of a device: hash32(deviceId) mod P, where hash32 is the zipper's hash ring's (FNV-1a 32 over
 * the id's UTF-16 code units — its bytes, for an ASCII id — then murmur3's fmix32 finaliser, unsigned). Every
 * edge and worker, in any language, must compute the same number: the fixture in partition.test.ts pins it.
 * Plain modulo rather than a ring because P is fixed for a stream's life: partitions move between workers,
 * devices never move between partitions.
 */
export function partitionOf(deviceId: string, partitions: number): number {
  return hash32(deviceId) % partitions;
}

/** The subject a partition's fixes for `tag` go on: `<stream>.<tag>.<partition>`. */
export const partitionSubject = (stream: string, tag: string | number, partition: number): string => `${stream}.${tag}.${partition}`;

/** Every tag's subject of one partition, for a reader that takes a partition whole. */
export const partitionFilter = (stream: string, partition: number): string => `${stream}.*.${partition}`;
