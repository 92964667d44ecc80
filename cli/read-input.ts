import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseTrace, type Trace } from '../simulators/replay/trace-formats.ts';
import { UsageError } from './args.ts';

/** A file named on the command line, or `-` for standard input, as text. */
export async function readText(path: string): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A trace named on the command line, or `-` for standard input; the format is recognised from its header. */
export async function readInput(path: string | undefined): Promise<Trace> {
  if (!path) throw new UsageError('name a trace file, or - for standard input');
  const text = await readText(path);
  const trace = parseTrace(text, path === '-' ? 'stdin' : basename(path).replace(/\.[^.]+$/, ''));
  // kernels keep per-device state and windows in time: feed them in time order (stable, so ties keep file order)
  trace.records.sort((a, b) => a.t - b.t);
  if (trace.bad) process.stderr.write(`${path}: ${trace.bad} bad rows skipped (${trace.badSamples.join('; ')})\n`);
  return trace;
}

/** the records in slices of `size`, in order */
export function* slices<T>(xs: T[], size = 4096): Generator<T[]> {
  for (let i = 0; i < xs.length; i += size) yield xs.slice(i, i + size);
}
