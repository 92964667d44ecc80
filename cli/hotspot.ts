import { batchFromRecords } from '../codecs/gps-batch.ts';
import { HotspotKernel, type HotspotParams } from '../sfn/kernels/hotspot.ts';
import type { CommandSpec, Parsed } from './args.ts';
import { Progress } from './progress.ts';
import { readInput, slices } from './read-input.ts';

export const hotspotSpec: CommandSpec = {
  name: 'hotspot',
  usage: 'geoflux hotspot --cell <m> --band <m> [options] <trace | ->',
  summary: 'Runs a trace through the hotspot kernel (Getis-Ord Gi* over a sliding window) and prints hot and cooled cells as JSON lines.',
  flags: {
    cell: { type: 'string', value: 'metres', help: 'grid cell size', default: '250' },
    band: { type: 'string', value: 'metres', help: 'neighbourhood: cells within this distance (square band)', default: '250' },
    window: { type: 'string', value: 'seconds', help: 'sliding window length', default: '300' },
    slide: { type: 'string', value: 'seconds', help: 'how often the window is scored', default: '60' },
    z: { type: 'string', value: 'score', help: 'z-score at or above which a cell is hot', default: '2.58' },
    'min-count': { type: 'string', value: 'n', help: 'fixes a cell needs in the window to be hot', default: '5' },
    weight: { type: 'string', value: 'count|speed', help: 'what a fix adds to its cell', default: 'count' },
    grid: { type: 'string', value: 'cells', help: 'grid width and height, centred on the first fix', default: '256' },
  },
  notes: ['Example:', '  geoflux hotspot --cell 200 --band 400 --window 600 ../shared/data/traces/liverpool-bus-route14-outbound.csv'],
};

export async function hotspotCommand({ values, positionals }: Parsed): Promise<void> {
  const trace = await readInput(positionals[0]);
  const params: HotspotParams = {
    cellSize: Number(values.cell),
    band: Number(values.band),
    window: Number(values.window),
    slide: Number(values.slide),
    zThreshold: Number(values.z),
    minCount: Number(values['min-count']),
    weightBySpeed: values.weight === 'speed' ? 1 : 0,
    gridWidth: Number(values.grid),
    gridHeight: Number(values.grid),
  };
  const k = await HotspotKernel.create(params);
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
