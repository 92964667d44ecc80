import { logger } from '../log/logger.ts';
import { runWorker } from '../serve/run-worker.ts';
import { loadWorkflow } from '../workflows/load.ts';
import type { Parsed } from './args.ts';
import { untilSignal } from './until-signal.ts';

export async function workerCommand({ values, positionals }: Parsed): Promise<void> {
  const wf = await loadWorkflow(positionals[0] ?? 'workflow.yaml');
  const worker = await runWorker(wf, { name: values.name as string | undefined, checkpointMs: Number(values['checkpoint-every']) });
  const log = logger(`worker ${worker.name}`);
  const signal = untilSignal((sig) => log.info(`${sig}: handing the partitions over (Ctrl-C again to force)`)).signal;
  await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  await worker.stop();
  log.info(`done: ${JSON.stringify(worker.stats())}`);
}
