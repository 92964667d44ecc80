import '../runtime/quiet-wasi-warning.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { pack } from '../codecs/msgpack.ts';
import { logger, setLogLevel, tapLogLines, type Level } from '../log/logger.ts';
import type { StateCommand, ThreadCommand, ThreadMessage } from '../runtime/module-thread.ts';
import type { FunctionModule } from '../sfn/function-module.ts';
import type { DeviceStateMover, KernelFunctionSpec } from '../sfn/kernel-function.ts';
import type { SourceContext } from '../source/source-module.ts';

/**
 * A workflow's local function or source in its own thread (runtime/module-thread.ts starts and watches it).
 * Both reach the zipper over port://, unless a source's entry names an address of its own.
 */

export type LocalWorkerData = { logLevel: Level; token?: string } & (
  | {
      kind: 'function';
      name: string;
      observe: string[];
      emit: string[];
      params?: Record<string, unknown>;
      /** a module (path or builtin:), or a kernel */
      run?: string;
      kernel?: Omit<KernelFunctionSpec, 'timeout'>;
      baseDir: string;
    }
  | { kind: 'source'; name: string; run: string; params: Record<string, unknown>; baseDir: string; zipper: string; certHash: string; mqtt?: SourceContext['mqtt'] }
);

const port = parentPort!;
const data = workerData as LocalWorkerData;
setLogLevel(data.logLevel);
const post = (m: ThreadMessage) => port.postMessage(m);

let stats: () => unknown = () => undefined;
let stop: () => Promise<void> = async () => {};
let devices: DeviceStateMover | undefined;
/** the instance's id at the zipper (its place on the hash ring) */
let clientId = '';

port.on('message', (m: ThreadCommand) => {
  if (m.geoflux === 'ping') post({ geoflux: 'pong', stats: stats() });
  else if (m.geoflux === 'stop') void stop().finally(() => process.exit(0));
  else void moveState(m);
});

/** a hand-over: this instance's devices out, the old instances' in (one after another), or this one's forgotten */
async function moveState(m: StateCommand): Promise<void> {
  try {
    if (!devices) throw new Error('only a kernel function hands its state over');
    if (m.geoflux === 'held-devices') return post({ geoflux: 'reply', id: m.id, bytes: pack({ instance: clientId, devices: devices.held() }) });
    if (m.geoflux === 'export-state') return post({ geoflux: 'reply', id: m.id, bytes: await devices.export(m.devices) });
    if (m.geoflux === 'drop-state') await devices.drop(m.devices);
    else for (const b of m.bytes) await devices.import(b);
    post({ geoflux: 'reply', id: m.id });
  } catch (e) {
    post({ geoflux: 'reply', id: m.id, error: (e as Error).message });
  }
}

// A thread imports only what its kind of module runs: every module imported is heap in every thread that
// imports it (the kernel host's ~3.7 MB in a printer's or a source's thread, which never runs a kernel).
async function startFunction(d: Extract<LocalWorkerData, { kind: 'function' }>): Promise<() => unknown> {
  // in this thread the kernel runs in line: the thread's watchdog is its time limit
  const kernel = d.kernel && (await import('../sfn/kernel-function.ts')).kernelFunction({ ...d.kernel, timeout: 0 });
  devices = kernel ? kernel.devices : undefined;
  const mod: FunctionModule = kernel || (await (await import('../sfn/builtins/index.ts')).loadFunctionModule(d.run!, d.baseDir));
  const { startFunctionModule } = await import('../sfn/function-module.ts');
  const sfn = await startFunctionModule(mod, { name: d.name, observe: d.observe, emit: d.emit, params: d.params }, { zipper: 'port://zipper', token: d.token });
  stop = () => sfn.close();
  clientId = sfn.clientId;
  return () => ({ ...sfn.stats(), kernel: kernel?.stats.snapshot() });
}

async function startSource(d: Extract<LocalWorkerData, { kind: 'source' }>): Promise<() => unknown> {
  const [{ loadSourceModule }, { connectSource }, { unconnectedSource }] = await Promise.all([import('../source/builtin-sources.ts'), import('../source/connect-source.ts'), import('../source/unconnected-source.ts')]);
  const mod = await loadSourceModule(d.run, d.baseDir);
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
    stats = await startFunction(data);
  } else {
    stats = await startSource(data);
  }
  post({ geoflux: 'ready' });
} catch (e) {
  const { message, name, problems } = e as Error & { problems?: { path: (string | number)[] }[] };
  post({ geoflux: 'failed', error: message, errorName: name, problems: problems?.map((p) => ({ path: p.path })) });
}
