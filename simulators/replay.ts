import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { Source } from '../source/connect-source.ts';
import type { SourceContext } from '../source/source-module.ts';
import { parseTrace } from './replay/trace-formats.ts';

/**
 * Replays recorded traces as a source (`run: builtin:replay`): each file is a device unless it names its
 * own, fixes keep their recorded times and are written `speed` times faster than they were recorded.
 * Params: `files` (paths, relative to the working directory), `speed` (default 1), `loop` (default false).
 */
export async function loadTraces(files: string[]): Promise<GpsRecord[]> {
  const all: GpsRecord[] = [];
  for (const f of files) {
    const trace = parseTrace(await readFile(f, 'utf8'), basename(f).replace(/\.[^.]+$/, ''));
    all.push(...trace.records);
  }
  return all.sort((a, b) => a.t - b.t);
}

export default async function replay(source: Source, ctx: SourceContext): Promise<void> {
  const files = (ctx.params.files as string[] | undefined)?.map((f) => resolve(f));
  if (!files?.length) throw new Error('replay needs params.files: a list of trace files');
  const speed = Number(ctx.params.speed ?? 1);
  const records = await loadTraces(files);
  if (records.length === 0) return ctx.log.warn('no fixes to replay');
  ctx.log.info(`replaying ${records.length} fixes from ${files.length} file(s) at ${speed}x`);
  do {
    const t0 = records[0].t;
    const start = Date.now();
    let i = 0;
    while (i < records.length && !ctx.signal.aborted) {
      const due = start + (records[i].t - t0) / speed;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, Math.min(wait, 1000)));
      const now = Date.now();
      const batch: GpsRecord[] = [];
      while (i < records.length && start + (records[i].t - t0) / speed <= now) batch.push(records[i++]);
      if (batch.length) source.write('gps', batch);
    }
  } while (ctx.params.loop && !ctx.signal.aborted);
  ctx.log.info('replay finished');
}
