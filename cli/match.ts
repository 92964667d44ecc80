import { batchFromRecords } from '../codecs/gps-batch.ts';
import { MapMatchKernel, type MapMatchEvent } from '../sfn/kernels/mapmatch.ts';
import { UsageError, type CommandSpec, type Parsed } from './args.ts';
import { Progress } from './progress.ts';
import { readInput, slices } from './read-input.ts';

export const matchSpec: CommandSpec = {
  name: 'match',
  usage: 'geoflux match --network <osm.pbf | kubicka-dir> [options] <trace | ->',
  summary: 'Map-matches a trace with the HMM kernel, without the streaming stack, and prints matched fixes as JSON lines.',
  flags: {
    network: { type: 'string', value: 'file', help: 'road network: an OSM PBF, or a Kubička benchmark prefix or directory' },
    sigma: { type: 'string', value: 'metres', help: "GPS noise σ (default: each fix's accuracy, else 8)" },
    radius: { type: 'string', value: 'metres', help: 'candidate search radius (default 50)' },
    k: { type: 'string', value: 'n', help: 'most candidates per fix (default 16)' },
    beta: { type: 'string', value: 'metres', help: "the vehicle's own variation in the transition, per second between fixes (default 3)" },
    lag: { type: 'string', value: 'fixes', help: 'most fixes held while the best path converges (default 30)' },
    'heading-sigma': { type: 'string', value: 'degrees', help: "σ of a fix's heading against the road; 0 ignores headings (default 30)" },
    'heading-speed': { type: 'string', value: 'm/s', help: 'headings of slower fixes are ignored (default 1)' },
    'stop-speed': { type: 'string', value: 'm/s', help: 'a fix reporting a slower speed is stationary (default 0.5)' },
    stationary: { type: 'string', value: 'metres', help: 'a fix without speed this close to the last one is stationary (default 2σ)' },
    'u-turn': { type: 'string', value: 'log-lik.', help: 'what a path pays for turning back on itself (default 10)' },
    'max-speed': { type: 'string', value: 'm/s', help: 'no vehicle is faster: longer routes in the time are no link (default 60)' },
    beam: { type: 'string', value: 'log-lik.', help: 'paths this far behind the best are dropped (default 15)' },
    route: { type: 'boolean', help: 'end with one line {"route": [edge ids driven, in order], "ways": [OSM way ids]}' },
    traversals: { type: 'boolean', help: 'also print a line per edge driven (enter/exit time, mean speed)' },
  },
  notes: [
    'Each line: {kind:"mapmatch", detect:"matched"|"unmatched", deviceId, time, point (on the road), raw, edge, wayId, offset, speed}; restart: true where the match broke just before (a gap, or no route).',
    'Model and params: docs/map-matching.md.',
    'Examples:',
    '  geoflux match --network ../shared/data/mapmatch-kubicka --route ../shared/data/mapmatch-kubicka/00000000.track',
    '  geoflux sim --vehicles 5 --out - | geoflux match --network ../shared/data/osm/monaco.osm.pbf -',
  ],
};

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
  const trace = await readInput(positionals[0]);
  const k = await MapMatchKernel.create({ network: String(values.network), ...params });
  const progress = new Progress(trace.records.length, 'fixes');
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
  let done = 0;
  for (const slice of slices(trace.records)) {
    print(k.process(batchFromRecords(slice)));
    progress.update((done += slice.length));
  }
  print(k.flush());
  const secs = (performance.now() - t0) / 1000;
  if (values.route) process.stdout.write(JSON.stringify({ route, ways: dedupe(route.map((e) => k.graph.edgeWay[e])) }) + '\n');
  const s = k.stats();
  progress.done(
    `${trace.records.length} fixes (${trace.format}): ${counts.matched} matched, ${counts.unmatched} unmatched, ${s.outOfOrder} out of order, ${s.skipped} bad; ` +
      `${route.length} edges driven; ${Math.round(trace.records.length / secs).toLocaleString('en')} fixes/s`,
  );
}

const dedupe = (xs: number[]) => xs.filter((x, i) => i === 0 || xs[i - 1] !== x);
