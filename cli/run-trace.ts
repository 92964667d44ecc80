import { addBadRows, goodRows, type BadRowCounts } from '../codecs/fix-checks.ts';
import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';
import type { Trace } from '../simulators/replay/trace-formats.ts';
import { Progress } from './progress.ts';
import { readInput, slices } from './read-input.ts';

/** What `geoflux kernel`, `fence`, `hotspot` and `match` run a trace through. */
export interface TraceKernel<E> {
  process(b: GpsBatch): E[] | Promise<E[]>;
  /** the events held back at the end of input */
  flush(): E[] | Promise<E[]>;
}

export interface TraceRun {
  trace: Trace;
  /** rows not fit for a kernel (no device, time or position), dropped before it, by reason */
  bad: BadRowCounts;
  badTotal: number;
  progress: Progress;
}

/**
 * Runs a trace file (or `-`, standard input) through a kernel in batches of 4,096, as a workflow would:
 * rows unfit for a kernel are counted by reason and dropped, progress goes to stderr on a terminal, and
 * `out` gets each batch's events as they come, the held-back ones last. The caller says the summary.
 */
export async function runTrace<E>(path: string | undefined, kernel: TraceKernel<E>, out: (events: E[]) => void): Promise<TraceRun> {
  const trace = await readInput(path);
  const progress = new Progress(trace.records.length, 'fixes');
  const bad: BadRowCounts = {};
  let badTotal = 0;
  let done = 0;
  for (const slice of slices(trace.records)) {
    const checked = goodRows(batchFromRecords(slice));
    addBadRows(bad, checked.bad);
    badTotal += checked.dropped;
    if (checked.batch.n) out(await kernel.process(checked.batch));
    progress.update((done += slice.length));
  }
  out(await kernel.flush());
  return { trace, bad, badTotal, progress };
}

/** ", 3 bad rows dropped (2 position, 1 time)", or nothing */
export const badRowsNote = (r: TraceRun): string =>
  r.badTotal ? `, ${r.badTotal} bad rows dropped (${Object.entries(r.bad).map(([reason, n]) => `${n} ${reason}`).join(', ')})` : '';

/** Events as JSON lines on stdout, a batch's worth at a time. */
export function printLines(events: readonly unknown[]): void {
  if (events.length) process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
}
