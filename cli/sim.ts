import { basename } from 'node:path';
import { LineSink } from '../simulators/line-sink.ts';
import { parseSpeed } from '../simulators/pacer.ts';
import { clock, Rate } from '../simulators/rate.ts';
import { createTraffic } from '../simulators/traffic/create-traffic.ts';
import { runTraffic } from '../simulators/traffic/run-traffic.ts';
import { UsageError, type CommandSpec, type Parsed } from './args.ts';
import { fixOutputFlags, openFixOutput } from './fix-output.ts';
import { StatusLine } from './progress.ts';
import { untilSignal } from './until-signal.ts';

export const simSpec: CommandSpec = {
  name: 'sim',
  usage: 'geoflux sim [options] (--zipper <url> | --out <file | ->)',
  summary:
    'Simulates a fleet driving the road network (quickest paths between random destinations, speeds by road\nclass, slowing at junctions and incidents) with a GPS error model, and streams the fixes to a zipper or a file.',
  flags: {
    vehicles: { type: 'string', value: 'n', help: 'vehicles in the default fleet (default: 500, or a --scenario\'s fleets)' },
    network: { type: 'string', value: 'file', help: 'road network, an OSM PBF (default: ../shared/data/osm/monaco.osm.pbf)' },
    scenario: { type: 'string', value: 'file', help: 'a scenario YAML: fleets, incidents, network, seed, start, duration' },
    seed: { type: 'string', value: 'n', help: 'same seed and --start, same fixes', default: '1' },
    start: { type: 'string', value: 'time', help: 'simulated start time, ISO 8601 (default: now)' },
    duration: { type: 'string', value: 'seconds', help: 'simulated seconds to run (default: until Ctrl-C with --zipper, else 600)' },
    speed: { type: 'string', value: 'Nx', help: 'simulated seconds per real second, e.g. 10x (default: 1x with --zipper, else as fast as possible)' },
    'as-fast-as-possible': { type: 'boolean', help: 'no pacing: as many steps as the CPU (and the zipper) take' },
    noise: { type: 'string', value: 'metres', help: 'GPS noise σ on each axis', default: '5' },
    interval: { type: 'string', value: 'seconds', help: 'seconds between fixes', default: '1' },
    outliers: { type: 'string', value: 'rate', help: 'share of fixes thrown 100-200 m off', default: '0.002' },
    dropouts: { type: 'string', value: 'rate', help: 'chance per fix that a 5-30 s gap starts', default: '0.002' },
    incident: { type: 'string', multiple: true, value: 'spec', help: '"lon,lat,radius_m,start,duration,slowdown": slow vehicles in a circle (repeatable)' },
    truth: { type: 'string', value: 'file', help: 'write the true edge and position of every fix as JSON lines' },
    ...fixOutputFlags,
  },
  notes: [
    'Incidents: slowdown is the share of speed lost (0.8: a fifth of the usual speed); start and duration are',
    'simulated seconds from the start. A progress line (simulated time, vehicles, fixes/s) goes to stderr.',
    'Examples:',
    '  geoflux sim --vehicles 2000 --speed 10x --zipper quic://127.0.0.1:9000 --insecure',
    '  geoflux sim --vehicles 20 --duration 300 --noise 10 --out fixes.csv --truth truth.jsonl',
    '  geoflux sim --incident "7.4236,43.7376,150,60,1800,0.8" --out - | geoflux match --network ../shared/data/osm/monaco.osm.pbf -',
  ],
};

const num = (values: Parsed['values'], name: string, ok: (x: number) => boolean, what: string): number | undefined => {
  if (values[name] === undefined) return undefined;
  const x = Number(values[name]);
  if (!ok(x)) throw new UsageError(`--${name} must be ${what} (got "${values[name]}")`);
  return x;
};

export async function simCommand({ values }: Parsed): Promise<void> {
  const rate01 = (x: number) => x >= 0 && x <= 1;
  let speed: number;
  try {
    speed = values['as-fast-as-possible'] ? Infinity : values.speed ? parseSpeed(values.speed) : values.zipper ? 1 : Infinity;
  } catch (e) {
    throw new UsageError(`--speed: ${(e as Error).message}`);
  }
  const t = await createTraffic({
    network: values.network as string | undefined,
    scenario: values.scenario as string | undefined,
    vehicles: num(values, 'vehicles', (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1'),
    seed: num(values, 'seed', Number.isInteger, 'a whole number'),
    start: values.start as string | undefined,
    duration: num(values, 'duration', (x) => x > 0, 'a number of seconds > 0'),
    incidents: values.incident as string[] | undefined,
    gps: {
      noise: num(values, 'noise', (x) => x >= 0, 'metres ≥ 0'),
      interval: num(values, 'interval', (x) => x > 0, 'seconds > 0'),
      outlierRate: num(values, 'outliers', rate01, 'between 0 and 1'),
      dropoutRate: num(values, 'dropouts', rate01, 'between 0 and 1'),
    },
    truth: Boolean(values.truth),
  });
  const duration = t.duration ?? (values.zipper ? undefined : 600);
  const stop = untilSignal();
  const output = await openFixOutput(values, 'geoflux-sim', () => stop.abort());
  const truth = values.truth ? new LineSink(String(values.truth)) : undefined;
  const vehicles = t.sim.vehicles.length;
  process.stderr.write(
    `${vehicles} vehicles on ${basename(t.networkPath)} (${t.network.graph.edgeFrom.length} edges), seed ${t.seed}, ` +
      `${t.incidents.length} incident(s), ${Number.isFinite(speed) ? `${speed}x` : 'as fast as possible'}, ${duration ? `${clock(duration)} simulated` : 'until Ctrl-C'}${output.description}\n`,
  );
  const rate = new Rate();
  const status = new StatusLine();
  const started = performance.now();
  await runTraffic(t.sim, {
    speed,
    duration,
    signal: stop.signal,
    emit: async ({ fixes, truth: truths }) => {
      rate.add(fixes.length);
      await output.emit(fixes);
      await truth?.write(truths.map((r) => JSON.stringify(r)));
      status.update(
        () =>
          `sim ${clock(t.sim.seconds)} · ${vehicles} vehicles · ${rate.total.toLocaleString('en')} fixes · ${Math.round(rate.perSecond()).toLocaleString('en')} fixes/s${output.status()}`,
      );
    },
  });
  stop.dispose();
  await output.close();
  await truth?.close();
  const secs = (performance.now() - started) / 1000;
  status.done(
    `${rate.total.toLocaleString('en')} fixes from ${vehicles} vehicles over ${clock(t.sim.seconds)} simulated in ${secs.toFixed(1)} s ` +
      `(${Math.round(rate.total / secs).toLocaleString('en')} fixes/s${output.status()})`,
  );
}
