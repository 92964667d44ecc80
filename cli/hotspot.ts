import { createHotspot } from '../kernels/create-kernel.ts';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { HotspotParams } from '../kernels/hotspot.ts';
import type { Parsed } from './args.ts';
import { Progress } from './progress.ts';
import { readInput, slices } from './read-input.ts';


export async function hotspotCommand({ values, positionals }: Parsed): Promise<void> {
  const trace = await readInput(positionals[0]);
  const params: HotspotParams = {
    cellSize: Number(values.cell),
    band: Number(values.band),
    window: Number(values.window),
    slide: Number(values.slide),
    zThreshold: Number(values.z),
    minCount: Number(values['min-count']),
    weightBySpeed: values.weight === 'speed',
    gridWidth: Number(values.grid),
    gridHeight: Number(values.grid),
  };
  const k = await createHotspot(params);
  const progress = new Progress(trace.records.length, 'fixes');
  let done = 0;
  let events = 0;
  const print = (es: unknown[]) => {
    events += es.length;
    if (es.length) process.stdout.write(es.map((e) => JSON.stringify(e)).join('\n') + '\n');
  };
  for (const slice of slices(trace.records)) {
    print(k.process(batchFromRecords(slice)));
    progress.update((done += slice.length));
  }
  print(k.flush());
  const s = k.stats();
  progress.done(`${trace.records.length} fixes (${trace.format}): ${events} cell events; skipped ${s.skipped}, off the grid ${s.outside}, late ${s.late}`);
}
