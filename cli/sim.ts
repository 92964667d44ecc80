import { basename } from 'node:path';
import { rounded } from '../codecs/precision.ts';
import { LineSink } from '../simulators/line-sink.ts';
import { parseSpeed } from '../simulators/pacer.ts';
import { clock, Rate } from '../simulators/rate.ts';
import { createTraffic } from '../simulators/traffic/create-traffic.ts';
import { trafficSteps } from '../simulators/traffic/traffic-steps.ts';
import { UsageError, type Parsed } from './args.ts';
import { FINISHING, lostFixes, openFixOutput, planFixOutput } from './fix-output.ts';
import { StatusLine } from './progress.ts';
import { untilSignal } from './until-signal.ts';
import { thousands } from '../log/thousands.ts';

const num = (values: Parsed['values'], name: string, ok: (x: number) => boolean, what: string): number | undefined => {
  if (values[name] === undefined) return undefined;
  const x = Number(values[name]);
  if (!ok(x)) throw new UsageError(`--${name} must be ${what} (got "${values[name]}")`);
  return x;
};

/** a device id prefix as builtin:traffic takes it; ids with spaces or separators would not survive MQTT topics and NATS subjects whole */
function prefixOf(values: Parsed['values']): string | undefined {
  const p = values.prefix;
  if (p === undefined) return undefined;
  if (!/^[A-Za-z0-9_.-]+$/.test(String(p))) throw new UsageError(`--prefix must be letters, digits, ".", "-" and "_" (got "${p}")`);
  return String(p);
}

export async function simCommand({ values }: Parsed): Promise<void> {
  if (!values.network && !values.scenario) throw new UsageError('name the road network: --network <osm.pbf> (e.g. ../shared/data/osm/monaco.osm.pbf), or a --scenario that names one');
  const rate01 = (x: number) => x >= 0 && x <= 1;
  let speed: number;
  try {
    speed = values['as-fast-as-possible'] ? Infinity : values.speed ? parseSpeed(values.speed) : values.zipper ? 1 : Infinity;
  } catch (e) {
    throw new UsageError(`--speed: ${(e as Error).message}`);
  }
  const plan = planFixOutput(values);
  const t = await createTraffic({
    network: values.network as string | undefined,
    scenario: values.scenario as string | undefined,
    vehicles: num(values, 'vehicles', (x) => Number.isInteger(x) && x >= 1, 'a whole number ≥ 1'),
    prefix: prefixOf(values),
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
  const stop = untilSignal('sim', FINISHING);
  const output = await openFixOutput(values, plan, 'geoflux-sim', stop);
  const truth = values.truth ? new LineSink(String(values.truth)) : undefined;
  const vehicles = t.sim.vehicles.length;
  process.stderr.write(
    `${vehicles} vehicles on ${basename(t.networkPath)} (${t.network.graph.edgeFrom.length} edges), seed ${t.seed}, ` +
      `${t.incidents.length} incident(s), ${Number.isFinite(speed) ? `${speed}x` : 'as fast as possible'}, ${duration ? `${clock(duration)} simulated` : 'until Ctrl-C'}${output.description}\n`,
  );
  const rate = new Rate();
  const status = new StatusLine();
  const started = performance.now();
  for await (const { fixes, truth: truths } of trafficSteps(t.sim, { speed, duration, signal: stop.signal })) {
    rate.add(fixes.length);
    await output.emit(fixes);
    await truth?.write(truths.map((r) => JSON.stringify(rounded(r))));
    status.update(
      () =>
        `sim ${clock(t.sim.seconds)} · ${vehicles} vehicles · ${thousands(rate.total)} fixes · ${thousands(Math.round(rate.perSecond()))} fixes/s${output.status()}`,
    );
  }
  // after the close: a second Ctrl-C during its wait for acknowledgements says what it cut short
  const report = await output.close();
  await truth?.close();
  stop.dispose();
  const secs = (performance.now() - started) / 1000;
  status.done(
    `${thousands(rate.total)} fixes from ${vehicles} vehicles over ${clock(t.sim.seconds)} simulated in ${secs.toFixed(1)} s ` +
      `(${thousands(Math.round(rate.total / secs))} fixes/s${output.status()})`,
  );
  const lost = lostFixes(report, rate.total);
  if (lost) throw new Error(lost);
}
