import { logger } from '../log/logger.ts';
import { runWorker } from '../serve/run-worker.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { parseHostPort, UsageError, type Parsed } from './args.ts';
import { untilSignal } from './until-signal.ts';

export async function workerCommand({ values, positionals }: Parsed): Promise<void> {
  const wf = await loadWorkflow(positionals[0] ?? 'workflow.yaml');
  const metrics = values.metrics === undefined ? undefined : hostPort(String(values.metrics));
  const checkpointMs = milliseconds(String(values['checkpoint-every']));
  let log = logger('worker');
  let running = false;
  const signal = untilSignal('worker', {
    say: (line) => log.info(line),
    stopping: () => (running ? 'handing the partitions over' : 'before holding any partition'),
    cutShort: () => (running ? 'the hand-over: the workers that take the partitions replay each from its last checkpoint' : 'the start'),
  }).signal;
  const worker = await runWorker(wf, { name: values.name as string | undefined, checkpointMs, metrics, signal }).catch((e: Error) => {
    if (signal.aborted) return undefined;
    throw e;
  });
  if (!worker) return;
  running = true;
  log = logger(`worker ${worker.name}`);
  if (worker.metrics) log.info(`metrics: ${worker.metrics.url}`);
  if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  await worker.stop();
  log.info(`done: ${JSON.stringify(worker.stats())}`);
}

/** `5000`, `5000ms`, `5s` or `0.5s`: --checkpoint-every (NaN checkpointed never, silently) */
export function milliseconds(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(v.trim());
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : NaN;
  if (!(ms >= 10)) throw new UsageError(`--checkpoint-every takes a time of at least 10 ms: 5000, 5000ms or 5s (got "${v}")`);
  return ms;
}

/** where the worker's /metrics listens */
function hostPort(v: string): { host: string; port: number } {
  const at = parseHostPort(v);
  if (!at) throw new UsageError(`--metrics takes a port or host:port (got "${v}")`);
  return at;
}
