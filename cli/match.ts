import { createMapMatch } from '../kernels/create-kernel.ts';
import type { MapMatchEvent } from '../kernels/mapmatch.ts';
import { UsageError, type Parsed } from './args.ts';
import { badRowsNote, runTrace } from './run-trace.ts';
import { thousands } from '../log/thousands.ts';

/** the model flags, as kernel params; the ones that may be 0 */
const MODEL_FLAGS = ['sigma', 'radius', 'k', 'beta', 'lag', 'heading-sigma', 'heading-speed', 'stop-speed', 'stationary', 'u-turn', 'max-speed', 'beam'];
const ZERO_OK = new Set(['lag', 'heading-sigma', 'heading-speed', 'stop-speed', 'stationary', 'u-turn']);
const camel = (flag: string) => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

/** the model flags given, as kernel params; those not given keep the kernel's defaults */
function modelParams(values: Parsed['values']): Record<string, number> {
  const params: Record<string, number> = {};
  for (const name of MODEL_FLAGS) {
    if (values[name] === undefined) continue;
    const x = Number(values[name]);
    if (!(x > 0) && !(ZERO_OK.has(name) && x === 0)) throw new UsageError(`--${name} must be a positive number (got "${values[name]}")`);
    params[camel(name)] = x;
  }
  return params;
}

export async function matchCommand({ values, positionals }: Parsed): Promise<void> {
  if (!values.network) throw new UsageError('--network <osm.pbf | kubicka-dir> is required');
  const params = modelParams(values);
  const k = await createMapMatch({ network: String(values.network), ...params });
  const route: number[] = [];
  const counts = { matched: 0, unmatched: 0 };
  const t0 = performance.now();
  const print = (events: MapMatchEvent[]) => {
    const lines: string[] = [];
    for (const e of events) {
      if (e.detect === 'traversal') {
        if (route[route.length - 1] !== e.edge) route.push(e.edge);
        if (!values.traversals) continue;
      } else counts[e.detect]++;
      lines.push(JSON.stringify(e));
    }
    if (lines.length) process.stdout.write(lines.join('\n') + '\n');
  };
  const run = await runTrace(positionals[0], k, print);
  const { trace } = run;
  const secs = (performance.now() - t0) / 1000;
  if (values.route) process.stdout.write(JSON.stringify({ route, ways: dedupe(route.map((e) => k.graph.edgeWay[e])) }) + '\n');
  const s = k.stats();
  run.progress.done(
    `${trace.records.length} fixes (${trace.format}): ${counts.matched} matched, ${counts.unmatched} unmatched, ${s.outOfOrder} out of order, ${run.badTotal + s.skipped} bad${badRowsNote(run)}; ` +
      `${route.length} edges driven; ${thousands(Math.round(trace.records.length / secs))} fixes/s`,
  );
}

const dedupe = (xs: number[]) => xs.filter((x, i) => i === 0 || xs[i - 1] !== x);
