import '../runtime/quiet-wasi-warning.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { logger, setLogLevel, tapLogLines, type Level } from '../log/logger.ts';
import type { Counted } from '../runtime/latest-counts.ts';
import type { StateCommand, ThreadCommand, ThreadMessage } from '../runtime/module-thread.ts';
import type { SourceContext } from '../source/source-module.ts';
import { startFailed, startInstance, type FunctionData } from './run-instance.ts';

/**
 * A workflow's local function or source in its own thread (runtime/module-thread.ts starts and watches it):
 * a source, or a function that runs a user's JavaScript (geoflux's own functions share host threads:
 * serve/host-worker.ts). Both reach the zipper over port://, unless a source's entry names an address of its own.
 */

export type LocalWorkerData = { logLevel: Level; token?: string } & (
  | ({ kind: 'function' } & FunctionData)
  | { kind: 'source'; name: string; run: string; params: Record<string, unknown>; baseDir: string; zipper: string; certHash: string; mqtt?: SourceContext['mqtt'] }
);

const port = parentPort!;
const data = workerData as LocalWorkerData;
setLogLevel(data.logLevel);
const post = (m: ThreadMessage) => port.postMessage(m);

let stats: () => unknown = () => undefined;
// its pongs and its acks (which come on another port) numbered alike, so that serve keeps the newer
let reports = 0;
const numbered = (s: unknown): Counted => ({ n: ++reports, stats: s });
let stop: () => Promise<void> = async () => {};
let answer: (m: StateCommand) => Promise<ThreadMessage> = async (m) => ({ geoflux: 'reply', id: m.id, error: 'only a kernel function hands its state over' });

port.on('message', (m: ThreadCommand) => {
  if (m.geoflux === 'ping') post({ geoflux: 'pong', ...numbered(stats()) });
  else if (m.geoflux === 'stop') void stop().finally(() => process.exit(0));
  else void answer(m).then(post);
});

async function startSource(d: Extract<LocalWorkerData, { kind: 'source' }>): Promise<() => unknown> {
  const [{ loadSourceModule }, { connectSource }, { unconnectedSource }] = await Promise.all([import('../source/builtin-sources.ts'), import('../source/connect-source.ts'), import('../source/unconnected-source.ts')]);
  const mod = await loadSourceModule(d.run, d.baseDir);
  await mod.check?.(d.params, d.baseDir);
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
  stop = async () => {
    abort.abort();
    await running;
    await source.close(1000);
  };
  return () => ({ ...source.stats(), ...own() });
}

try {
  if (data.kind === 'function') {
    // its lines also go to serve, which keeps the recent ones for `geoflux logs`
    tapLogLines(({ line }) => post({ geoflux: 'log', line }));
    // its acks carry its counters: what it acked is counted even if it crashes before the next ping
    const instance = await startInstance(data, { withAcks: numbered });
    ({ stats, stop, answer } = instance);
  } else {
    stats = await startSource(data);
  }
  post({ geoflux: 'ready' });
} catch (e) {
  post(startFailed(e));
}
