import { batchFromRecords } from '../codecs/gps-batch.ts';
import { DETECTS, GeofenceKernel, type Detect } from '../sfn/kernels/geofence.ts';
import { loadWasmer } from '../sfn/kernel-host.ts';
import { UsageError, type CommandSpec, type Parsed } from './args.ts';
import { Progress } from './progress.ts';
import { readInput, slices } from './read-input.ts';

export const fenceSpec: CommandSpec = {
  name: 'fence',
  usage: 'geoflux fence --fences <file.geojson> [options] <trace | ->',
  summary: 'Runs a trace through the geofence kernel, without the streaming stack, and prints events as JSON lines.',
  flags: {
    fences: { type: 'string', value: 'file', help: 'GeoJSON fences: Polygon, MultiPolygon, or Point with properties.radius (m)' },
    detect: { type: 'string', value: 'list', help: `events to report: ${DETECTS.join(',')}`, default: 'enter,exit,cross,dwell' },
    dwell: { type: 'string', value: 'seconds', help: 'time inside a fence before dwell fires', default: '300' },
    contains: { type: 'boolean', help: 'instead of events, one line per fix with the ids of the fences containing it' },
    wasi: { type: 'string', value: 'node|wasmer', help: 'WASI implementation', default: 'node' },
  },
  notes: ['Example:', '  geoflux fence --fences ../shared/data/fences/seattle-neighborhoods.geojson ../shared/data/traces/seattle-newson-krumm-gps.txt'],
};

export async function fenceCommand({ values, positionals }: Parsed): Promise<void> {
  if (!values.fences) throw new UsageError('--fences <file.geojson> is required');
  const detect = String(values.detect).split(',').map((d) => d.trim()) as Detect[];
  const wasi = values.wasi === 'wasmer' ? 'wasmer' : 'node';
  if (wasi === 'wasmer') await loadWasmer();
  const trace = await readInput(positionals[0]);
  const contains = Boolean(values.contains);
  const k = await GeofenceKernel.create({ fences: String(values.fences), detect, dwell: Number(values.dwell) }, { contains, wasi });
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
