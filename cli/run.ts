import { logger } from '../log/logger.ts';
import { importModule, startFunctionModule, type FunctionModule } from '../sfn/function-module.ts';
import { UsageError, type CommandSpec, type Parsed } from './args.ts';
import { connectionFlags, connectionOptions } from './connection-flags.ts';

export const runSpec: CommandSpec = {
  name: 'run',
  usage: 'geoflux run <my-sfn.ts> [options]',
  summary:
    'Runs a stream function module as its own process, connected to a zipper. The module exports a default\nfunction (in$, ctx) => Observable, and may export name, observe, emit and init; flags override them.',
  flags: {
    name: { type: 'string', short: 'n', value: 'name', help: 'function name, as in the workflow (default: the module\'s `name`)' },
    observe: { type: 'string', value: 'tags', help: 'comma-separated tags to observe (default: the module\'s `observe`)' },
    emit: { type: 'string', value: 'tag', help: 'tag to write outputs to (default: the module\'s `emit`)' },
    params: { type: 'string', value: 'json', help: 'JSON object handed to the module as ctx.params' },
    ...connectionFlags('quic://127.0.0.1:9000'),
  },
  notes: ['Example:', '  geoflux run workflows/examples/speeding.ts --zipper quic://127.0.0.1:9000 --cert-hash 3f2a…'],
};

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
  const mod = await importModule<FunctionModule>(file);
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
