import { logger } from '../log/logger.ts';
import type { SourceContext } from '../source/source-module.ts';
import { refuseState, type RunningInstance } from './run-instance.ts';

/**
 * One workflow source inside a worker thread: a user's module in a thread of its own (serve/local-worker.ts),
 * a builtin beside function instances in a host thread (serve/host-worker.ts). It reaches the zipper over
 * port:// unless its entry names an address of its own.
 */

export interface SourceData {
  kind: 'source';
  name: string;
  run: string;
  params: Record<string, unknown>;
  baseDir: string;
  zipper: string;
  certHash: string;
  mqtt?: SourceContext['mqtt'];
  token?: string;
}

export interface SourceStartOptions {
  /** once its module is loaded and its files checked, before it dials (a host restarting its instances: StartOptions) */
  beforeDial?: () => Promise<void>;
}

/**
 * Starts the source and resolves once it runs (a device listener: once it listens). Seen by its thread as a
 * function instance is: it reports stats, stops, and hands no state over (nor receives records).
 */
export async function startSource(d: SourceData, { beforeDial }: SourceStartOptions = {}): Promise<RunningInstance> {
  // a thread imports only what its modules run: the source side only where a source runs
  const [{ loadSourceModule }, { connectSource }, { unconnectedSource }] = await Promise.all([import('../source/builtin-sources.ts'), import('../source/connect-source.ts'), import('../source/unconnected-source.ts')]);
  const mod = await loadSourceModule(d.run, d.baseDir);
  await mod.check?.(d.params, d.baseDir);
  await beforeDial?.();
  const source = mod.writes?.(d.params) === false ? unconnectedSource(d.name) : await connectSource({ name: d.name, zipper: d.zipper, token: d.token, certHash: d.certHash });
  const abort = new AbortController();
  const log = logger(`source ${d.name}`);
  let own: () => Record<string, unknown> = () => ({});
  let listening!: () => void;
  const listened = new Promise<void>((r) => (listening = r));
  const ctx: SourceContext = { name: d.name, params: d.params, dir: d.baseDir, signal: abort.signal, log, mqtt: d.mqtt, report: (read) => (own = read), listening };
  const run = mod.default(source, ctx);
  if (mod.listens) {
    try {
      await Promise.race([listened, run.then(() => Promise.reject(new Error('it ended before it listened')))]);
    } catch (e) {
      await source.close(0);
      throw e;
    }
  }
  const running = run.then(
    // a source that ends by itself (a replay at its last fix) leaves serve running: say so, or it looks hung
    () => log.info(abort.signal.aborted ? 'finished' : 'finished; serve goes on serving until Ctrl-C'),
    (e: Error) => log.error(`stopped: ${e.message}`),
  );
  return {
    stats: () => ({ ...source.stats(), ...own() }),
    received: () => 0,
    devices: undefined,
    maker: () => undefined,
    answer: refuseState,
    async stop() {
      abort.abort();
      await running;
      await source.close(1000);
      return undefined;
    },
  };
}
