import { logger } from '../log/logger.ts';
import { loadFunctionModule } from '../sfn/builtins/index.ts';
import { startFunctionModule } from '../sfn/function-module.ts';
import { UsageError, type Parsed } from './args.ts';
import { connectionOptions } from './connection-flags.ts';


export async function runCommand({ values, positionals }: Parsed): Promise<void> {
  const file = positionals[0];
  if (!file) throw new UsageError('geoflux run needs a module: geoflux run <my-sfn.ts>');
  let params: Record<string, unknown> | undefined;
  if (values.params) {
    try {
      params = JSON.parse(String(values.params));
    } catch (e) {
      throw new UsageError(`--params is not JSON: ${(e as Error).message}`);
    }
  }
  const mod = await loadFunctionModule(file);
  const sfn = await startFunctionModule(
    mod,
    {
      name: values.name as string | undefined,
      observe: values.observe ? String(values.observe).split(',').map((s) => s.trim()) : undefined,
      emit: values.emit as string | undefined,
      params,
    },
    connectionOptions(values),
  );
  const log = logger('run');
  log.info(`function connected to ${values.zipper}; Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      const s = sfn.stats();
      log.info(`stopping: received ${s.received}, emitted ${s.emitted}, errors ${s.errors}, duplicates ${s.duplicates}`);
      void sfn.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
