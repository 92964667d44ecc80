import type { GpsBatch } from '../codecs/gps-batch.ts';
import { createGeofence } from '../kernels/create-kernel.ts';
import type { Detect } from '../kernels/geofence.ts';
import { fixFields } from '../kernels/host/rows.ts';
import { UsageError, type Parsed } from './args.ts';
import { badRowsNote, printLines, runTrace } from './run-trace.ts';
import { thousands } from '../log/thousands.ts';

export async function fenceCommand({ values, positionals }: Parsed): Promise<void> {
  if (!values.fences) throw new UsageError('--fences <file.geojson> is required');
  const detect = String(values.detect).split(',').map((d) => d.trim()) as Detect[];
  const wasi = values.wasi === 'wasmer' ? 'wasmer' : 'node';
  const contains = Boolean(values.contains);
  // the debounce params the command line leaves out are the kernel's defaults
  const given = (name: string) => (values[name] === undefined ? {} : { [name]: Number(values[name]) });
  const debounce = values.raw ? { debounce: false } : { ...given('hysteresis'), ...given('evidence'), ...given('confirm'), ...(values['confirm-run'] ? { confirmRun: true } : {}), ...(values['at-first-fix'] ? { crossing: false } : {}) };
  const k = await createGeofence({ fences: String(values.fences), detect, dwell: Number(values.dwell), ...debounce }, { contains, wasi });
  let lines = 0;
  // --contains: one line per fix, with the ids of the fences it is in
  const containing = {
    process: (b: GpsBatch) => k.contains(b).map((fences, i) => ({ ...fixFields(b, i), fences: fences.map((f) => k.fences[f].id) })),
    flush: () => [],
  };
  const run = await runTrace(positionals[0], contains ? containing : k, (events: unknown[]) => {
    lines += events.length;
    printLines(events);
  });
  const s = k.stats();
  // the kernel's outlier guard discards fixes that jump faster than a vehicle drives: a summary without them
  // said "0 fixes skipped" of a file whose fixes were two thirds outliers
  const outliers = Number(s.outliers ?? 0);
  const guarded = outliers ? `, ${thousands(outliers)} discarded as outliers (too far from their device's last fix for the time between)` : '';
  run.progress.done(`${run.trace.records.length} fixes (${run.trace.format}) × ${k.fences.length} fences: ${lines} ${contains ? 'lines' : 'events'}, ${run.badTotal + s.skipped} fixes skipped${guarded}${badRowsNote(run)}`);
}
