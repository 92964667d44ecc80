import { createHotspot } from '../kernels/create-kernel.ts';
import type { HotspotParams } from '../kernels/hotspot.ts';
import type { Parsed } from './args.ts';
import { badRowsNote, printLines, runTrace } from './run-trace.ts';

export async function hotspotCommand({ values, positionals }: Parsed): Promise<void> {
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
  let events = 0;
  const run = await runTrace(positionals[0], k, (es) => {
    events += es.length;
    printLines(es);
  });
  const s = k.stats();
  run.progress.done(`${run.trace.records.length} fixes (${run.trace.format}): ${events} cell events; skipped ${s.skipped}, off the grid ${s.outside}, late ${s.late}${badRowsNote(run)}`);
}
