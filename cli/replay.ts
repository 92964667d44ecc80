import { resolve } from 'node:path';
import { parseSpeed } from '../simulators/pacer.ts';
import { clock, Rate } from '../simulators/rate.ts';
import { describePace, describeTrace, loadTraces, replaySlices } from '../simulators/replay.ts';
import { UsageError, type Parsed } from './args.ts';
import { FINISHING, lostFixes, openFixOutput, planFixOutput } from './fix-output.ts';
import { readText } from './read-input.ts';
import { StatusLine } from './progress.ts';
import { untilSignal } from './until-signal.ts';
import { thousands } from '../log/thousands.ts';


export async function replayCommand({ values, positionals }: Parsed): Promise<void> {
  if (positionals.length === 0) throw new UsageError('name one or more trace files: geoflux replay <files...>');
  let speed: number;
  try {
    speed = parseSpeed(values.speed);
  } catch (e) {
    throw new UsageError(`--speed: ${(e as Error).message}`);
  }
  const plan = planFixOutput(values);
  const { traces, records } = await loadTraces(positionals.map((f) => (f === '-' ? f : resolve(f))), readText);
  // before the first line said: whoever reads it (a user, a test) may answer with Ctrl-C at once, and with no
  // handler yet that killed the process (exit by signal, no summary) where it should say it was interrupted
  const stop = untilSignal('replay', FINISHING);
  for (const t of traces) process.stderr.write(describeTrace(t) + '\n');
  if (records.length === 0) {
    stop.dispose();
    throw new Error('no fixes to replay');
  }
  const output = await openFixOutput(values, plan, 'geoflux-replay', stop);
  const devices = new Set(records.map((r) => r.deviceId)).size;
  process.stderr.write(`replaying ${thousands(records.length)} fixes of ${devices} device(s) ${describePace(records, speed, Boolean(values.loop))}${output.description}\n`);
  const rate = new Rate();
  const status = new StatusLine();
  const started = performance.now();
  let at = records[0].t;
  const end = records[records.length - 1].t;
  const total = records.length;
  for await (const fixes of replaySlices(records, { speed, loop: Boolean(values.loop), signal: stop.signal })) {
    rate.add(fixes.length);
    at = fixes[fixes.length - 1].t;
    await output.emit(fixes);
    status.update(() => {
      const perSecond = rate.perSecond();
      // paced, the recorded time left says when it ends; at full speed, the rate does
      const left = Number.isFinite(speed) ? (end - at) / 1000 / speed : (total - rate.total) / Math.max(perSecond, 1);
      const done = values.loop ? `${thousands(rate.total)} fixes, looping` : `${thousands(rate.total)}/${thousands(total)} fixes (${Math.floor((rate.total / total) * 100)} %)`;
      return `replay at ${new Date(at).toISOString()} · ${done} · ${thousands(Math.round(perSecond))} fixes/s${values.loop ? '' : ` · ETA ${clock(left)}`}${output.status()}`;
    });
  }
  const interrupted = stop.signal.aborted && !values.loop ? `, interrupted at ${thousands(rate.total)} of ${thousands(total)}` : '';
  // after the close: a second Ctrl-C during its wait for acknowledgements says what it cut short
  const report = await output.close();
  stop.dispose();
  status.done(`replayed ${thousands(rate.total)} fixes in ${((performance.now() - started) / 1000).toFixed(1)} s${interrupted}${output.status()}`);
  const lost = lostFixes(report, rate.total);
  if (lost) throw new Error(lost);
}
