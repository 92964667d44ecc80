import { createGeofence } from '../kernels/create-kernel.ts';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { Detect } from '../kernels/geofence.ts';
import { UsageError, type Parsed } from './args.ts';
import { Progress } from './progress.ts';
import { readInput, slices } from './read-input.ts';


export async function fenceCommand({ values, positionals }: Parsed): Promise<void> {
  if (!values.fences) throw new UsageError('--fences <file.geojson> is required');
  const detect = String(values.detect).split(',').map((d) => d.trim()) as Detect[];
  const wasi = values.wasi === 'wasmer' ? 'wasmer' : 'node';
  const trace = await readInput(positionals[0]);
  const contains = Boolean(values.contains);
  const k = await createGeofence({ fences: String(values.fences), detect, dwell: Number(values.dwell) }, { contains, wasi });
  const progress = new Progress(trace.records.length, 'fixes');
  const out: string[] = [];
  let done = 0;
  let events = 0;
  for (const slice of slices(trace.records)) {
    const b = batchFromRecords(slice);
    if (contains) {
      k.contains(b).forEach((fences, i) => out.push(JSON.stringify({ deviceId: slice[i].deviceId, time: new Date(slice[i].t).toISOString(), point: [slice[i].lon, slice[i].lat], fences: fences.map((f) => k.fences[f].id) })));
    } else {
      for (const e of k.process(b)) out.push(JSON.stringify(e));
    }
    events += out.length;
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
    progress.update((done += slice.length));
  }
  const s = k.stats();
  progress.done(`${trace.records.length} fixes (${trace.format}) × ${k.fences.length} fences: ${events} ${contains ? 'lines' : 'events'}, ${s.skipped} fixes skipped`);
}
