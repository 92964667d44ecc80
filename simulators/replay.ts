import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { Source } from '../source/connect-source.ts';
import type { SourceContext } from '../source/source-module.ts';
import type { Clock } from './clock.ts';
import { Pacer, parseSpeed } from './pacer.ts';
import { clock } from './rate.ts';
import { parseTrace, type Trace } from './replay/trace-formats.ts';
import { writePaced } from '../source/write-paced.ts';
import { checkParamFiles } from '../source/param-files.ts';
import { thousands } from '../log/thousands.ts';

/**
 * Replays recorded traces (`run: builtin:replay`, and `geoflux replay`): each file is a device unless it
 * names its own, fixes keep their recorded spacing and are written `speed` times faster than recorded.
 * Params: `files` (paths, relative to the workflow file), `speed` (default 1, or "max"), `loop` (default false).
 */
export interface LoadedTrace extends Trace {
  file: string;
}

async function readTrace(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** `read`: a file's text (the CLI's also reads `-`, standard input, whose device is "stdin") */
export async function loadTraces(files: string[], read: (file: string) => Promise<string> = readTrace): Promise<{ traces: LoadedTrace[]; records: GpsRecord[] }> {
  const traces: LoadedTrace[] = [];
  for (const file of files) traces.push({ file, ...parseTrace(await read(file), file === '-' ? 'stdin' : basename(file).replace(/\.[^.]+$/, '')) });
  // stable, so fixes at the same time keep their files' order
  const records = traces.flatMap((t) => t.records).sort((a, b) => a.t - b.t);
  return { traces, records };
}

/** one line per file: what was read, for whom, over what time, and what could not be */
export const describeTrace = (t: LoadedTrace): string => {
  const devices = new Set(t.records.map((r) => r.deviceId));
  // a loop, not Math.min(...times): a trace of ~150k fixes or more passes more arguments than the stack holds
  let [first, last] = [Infinity, -Infinity];
  for (const r of t.records) [first, last] = [Math.min(first, r.t), Math.max(last, r.t)];
  const span = t.records.length ? `${new Date(first).toISOString()} → ${new Date(last).toISOString()}` : 'no fixes';
  return `${t.file}: ${t.records.length} fixes (${t.format}), ${devices.size} device${devices.size === 1 ? '' : 's'}, ${span}${t.bad ? `; ${t.bad} bad rows skipped (${t.badSamples.join('; ')})` : ''}`;
};

/** how fast, and (paced, once through) how long it will take: "at 20x, 0:07:13 to play" */
export function describePace(records: readonly GpsRecord[], speed: number, loop: boolean): string {
  if (!Number.isFinite(speed)) return `at full speed${loop ? ', looping' : ''}`;
  const span = records.length ? (records[records.length - 1].t - records[0].t) / 1000 : 0;
  return `at ${speed}x, ${clock(span / speed)} to play${loop ? ', then looping' : ''}`;
}

export interface ReplayOptions {
  /** recorded seconds per wall second (Infinity: as fast as possible) */
  speed: number;
  /** start again at the end, times moved on by the trace's span so every device's clock keeps going forward */
  loop?: boolean;
  signal?: AbortSignal;
  /** most fixes in one slice (default 4096) */
  batch?: number;
  clock?: Clock;
}

/**
 * Plays time-sorted records: each slice holds the fixes due by then. The next slice is cut when the
 * consumer asks for it, so a consumer that awaits holds the replay back.
 */
export async function* replaySlices(records: readonly GpsRecord[], o: ReplayOptions): AsyncGenerator<GpsRecord[]> {
  if (records.length === 0) return;
  const first = records[0].t;
  const span = records[records.length - 1].t - first + 1000;
  const pacer = new Pacer(o.speed, first, 1, o.clock);
  for (let round = 0; round === 0 || (o.loop && !o.signal?.aborted); round++) {
    const shift = round * span;
    let i = 0;
    while (i < records.length && !o.signal?.aborted) {
      await pacer.until(records[i].t + shift, o.signal);
      const due = pacer.now();
      const slice: GpsRecord[] = [];
      while (i < records.length && slice.length < (o.batch ?? 4096) && records[i].t + shift <= due) {
        slice.push(shift ? { ...records[i], t: records[i].t + shift } : records[i]);
        i++;
      }
      if (slice.length) yield slice;
    }
  }
}

export const check = (params: Record<string, unknown>, dir: string): Promise<void> => checkParamFiles(params, dir, ['files']);

export default async function replay(source: Source, ctx: SourceContext): Promise<void> {
  const files = (ctx.params.files as string[] | undefined)?.map((f) => resolve(ctx.dir, f));
  if (!files?.length) throw new Error('replay needs params.files: a list of trace files');
  const speed = parseSpeed(ctx.params.speed ?? 1);
  const tag = String(ctx.params.tag ?? 'gps');
  const { traces, records } = await loadTraces(files);
  for (const t of traces) (t.bad ? ctx.log.warn : ctx.log.info)(describeTrace(t));
  if (records.length === 0) return ctx.log.warn('no fixes to replay');
  ctx.log.info(`replaying ${thousands(records.length)} fixes from ${files.length} file(s) ${describePace(records, speed, Boolean(ctx.params.loop))}`);
  let sent = 0;
  const started = performance.now();
  for await (const fixes of replaySlices(records, { speed, loop: Boolean(ctx.params.loop), signal: ctx.signal })) {
    sent += fixes.length;
    await writePaced(source, tag, fixes);
  }
  const took = `${thousands(sent)} fixes written in ${((performance.now() - started) / 1000).toFixed(1)} s`;
  if (ctx.signal.aborted) ctx.log.info(`replay stopped before its end: ${took}${ctx.params.loop ? '' : ` of ${thousands(records.length)}`}`);
  else ctx.log.info(`replay finished: ${took}`);
}
