import { copyRow, emptyBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import { partitionOf } from './partition.ts';

/**
 * A batch's fixes by partition, in one pass: each partition's fixes as a batch of their own with a
 * dictionary of just its devices, in the order they came. Empty partitions are left out. One hash per
 * device (not per fix), and typed arrays throughout: it runs on every frame bound for the cloud.
 */
export function splitByPartition(b: GpsBatch, partitions: number): Map<number, GpsBatch> {
  const partOf = new Uint32Array(b.devices.length);
  const counts = new Uint32Array(partitions);
  for (let d = 0; d < b.devices.length; d++) partOf[d] = partitionOf(b.devices[d], partitions);
  for (let i = 0; i < b.n; i++) counts[partOf[b.device[i]]]++;
  const out = new Map<number, GpsBatch>();
  const parts: GpsBatch[] = [];
  for (let p = 0; p < partitions; p++) if (counts[p]) out.set(p, (parts[p] = emptyBatch(counts[p])));
  // a device's index in its partition's dictionary, once it has one
  const remap = new Int32Array(b.devices.length).fill(-1);
  const fill = new Uint32Array(partitions);
  for (let i = 0; i < b.n; i++) {
    const d = b.device[i];
    const p = partOf[d];
    const o = parts[p];
    const j = fill[p]++;
    if (remap[d] < 0) remap[d] = o.devices.push(b.devices[d]) - 1;
    o.device[j] = remap[d];
    copyRow(b, i, o, j);
  }
  return out;
}
