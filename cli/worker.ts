import { logger } from '../log/logger.ts';
import { runWorker } from '../serve/run-worker.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { UsageError, type Parsed } from './args.ts';
import { untilSignal } from './until-signal.ts';

export async function workerCommand({ values, positionals }: Parsed): Promise<void> {
  const wf = await loadWorkflow(positionals[0] ?? 'workflow.yaml');
  const metrics = values.metrics === undefined ? undefined : hostPort(String(values.metrics));
  let log = logger('worker');
  let running = false;
  const signal = untilSignal((sig) => log.info(running ? `${sig}: handing the partitions over (Ctrl-C again to force)` : `${sig}: stopping`)).signal;
  const worker = await runWorker(wf, { name: values.name as string | undefined, checkpointMs: Number(values['checkpoint-every']), metrics, signal }).catch((e: Error) => {
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

/** `9466` or `0.0.0.0:9466`: where the worker's /metrics listens (the host default 127.0.0.1) */
function hostPort(v: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new UsageError(`--metrics takes a port or host:port (got "${v}")`);
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
}
