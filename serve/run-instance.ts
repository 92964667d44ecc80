import { pack } from '../codecs/msgpack.ts';
import { logger } from '../log/logger.ts';
import { once } from '../runtime/once.ts';
import type { Counted } from '../runtime/latest-counts.ts';
import type { StateCommand, ThreadMessage } from '../runtime/module-thread.ts';
import type { FunctionModule } from '../sfn/function-module.ts';
import type { KernelMaker } from '../kernels/create-kernel.ts';
import type { DeviceStateMover, KernelFunctionSpec } from '../sfn/kernel-function.ts';
import type { StreamFunctionStats } from '../sfn/connect-stream-function.ts';
import { shownName } from './versioned-name.ts';

/**
 * One local function instance inside a worker thread: in a thread of its own (serve/local-worker.ts) or
 * beside others in a host thread (serve/host-worker.ts). Either way it reaches the zipper over a port://
 * channel of its own, with its own sfn and its own kernel.
 */

export interface FunctionData {
  /** told apart from a source's (SourceData) in a host thread, which runs both */
  kind?: 'function';
  name: string;
  observe: string[];
  emit: string[];
  params?: Record<string, unknown>;
  /** a module (path or builtin:), or a kernel */
  run?: string;
  kernel?: Omit<KernelFunctionSpec, 'timeout'>;
  baseDir: string;
  token?: string;
}

export interface RunningInstance {
  stats(): unknown;
  /** records handed to its handler so far */
  received(): number;
  /** a kernel function's per-device state; undefined for other modules */
  devices: DeviceStateMover | undefined;
  /** what made its kernel (files read, params prepared), once made: what its host keeps while its function is parked */
  maker(): KernelMaker | undefined;
  answer(m: StateCommand): Promise<Extract<ThreadMessage, { geoflux: 'reply' }>>;
  /** `save`: serve stops cleanly, so a kernel's devices' state is taken once it has flushed, for serve's next start (serve/saved-state.ts) */
  stop(save?: boolean): Promise<SavedInstance | undefined>;
}

/**
 * a kernel instance's state as it stopped: its devices' (as export-state takes them), or all of it
 * (`whole`: its kernel moves its state whole only), or why it could not be taken
 */
export type SavedInstance = { bytes: Uint8Array; devices: string[]; whole: boolean } | { error: string };

export interface StartOptions {
  /** a kernel function's state (as export-state took it), imported before it takes a frame */
  restore?: Uint8Array[];
  /**
   * once what the instance loads is loaded, before it joins: a host restarting its instances lets none of
   * them join until all are loaded, so that none handles a frame (which may hang the thread again) while
   * another has yet to load
   */
  beforeDial?: () => Promise<void>;
  /** what made the kernel of its function's instance that parked (a wake): the kernel is then only an instance */
  made?: KernelMaker;
  /** a wake: it joins while its kernel loads (connectStreamFunction), and the frames the zipper held for its function wait in its thread meanwhile */
  joinEarly?: boolean;
  /** what each ack carries, made of its stats (as stats() gives them) by its thread: what it acked stays counted if the thread dies next */
  withAcks?: (stats: object) => Counted;
}

const kernelFunctionModule = once(() => import('../sfn/kernel-function.ts'));
const builtinsModule = once(() => import('../sfn/builtins/index.ts'));
const functionModule = once(() => import('../sfn/function-module.ts'));

/**
 * Starts the instance; a kernel function is given `restore` before it takes a frame, so that no frame meets
 * it without its devices. A thread imports only what its modules run: every module imported is heap in
 * every thread that imports it.
 */
export async function startInstance(d: FunctionData, { restore = [], beforeDial, made, joinEarly, withAcks }: StartOptions = {}): Promise<RunningInstance> {
  // in a worker thread the kernel runs in line: the thread's watchdog is its time limit
  const kernel = d.kernel && (await kernelFunctionModule()).kernelFunction({ ...d.kernel, timeout: 0 }, made);
  const devices = kernel ? kernel.devices : undefined;
  const loaded: FunctionModule = kernel || (await (await builtinsModule()).loadFunctionModule(d.run!, d.baseDir));
  // a kernel is opened by `batches`, which runs after `init` and before the dial
  const mod: FunctionModule = !loaded.batches
    ? { ...loaded, init: async (ctx) => (await loaded.init?.(ctx), await beforeDial?.()) }
    : {
        ...loaded,
        batches: async (ctx) => {
          const handler = await loaded.batches!(ctx);
          for (const b of restore) await kernel!.devices.import(b);
          await beforeDial?.();
          return handler;
        },
      };
  const { startFunctionModule } = await functionModule();
  const statsOf = (s: StreamFunctionStats) => ({ ...s, kernel: kernel?.stats.snapshot() });
  const sfn = await startFunctionModule(mod, { name: d.name, observe: d.observe, emit: d.emit, params: d.params }, { zipper: 'port://zipper', token: d.token, log: logger(`sfn ${shownName(d.name)}`), joinEarly, withAcks: withAcks && ((s) => withAcks(statsOf(s))) });
  return {
    stats: () => statsOf(sfn.stats()),
    received: () => sfn.stats().received,
    devices,
    maker: () => kernel?.maker(),
    // once it has flushed, it forgets its devices: its final figures, kept as a retired instance's
    // (serve/retired-counts.ts), then hold its kernel's tallies and no level of devices it no longer serves (a
    // kernel that keeps no devices has none to forget). What is saved is taken after the flush: taken before,
    // a map matcher's pending fixes, emitted by the flush, would be emitted again after the restart
    async stop(save = false) {
      await sfn.close();
      const saved = save && devices ? await devices.exportAll().then(({ bytes, whole }) => ({ bytes, devices: devices.held(), whole }), (e: Error) => ({ error: e.message })) : undefined;
      await devices?.drop().catch(() => undefined);
      return saved;
    },
    // a hand-over: this instance's devices out, the old instances' in (one after another), or this one's forgotten
    async answer(m) {
      try {
        if (!devices) return await refuseState(m);
        if (m.geoflux === 'held-devices') return { geoflux: 'reply', id: m.id, bytes: pack({ instance: sfn.clientId, devices: devices.held() }) };
        if (m.geoflux === 'export-state') return { geoflux: 'reply', id: m.id, bytes: await devices.export(m.devices) };
        if (m.geoflux === 'drop-state') await devices.drop(m.devices);
        else for (const b of m.bytes) await devices.import(b);
        return { geoflux: 'reply', id: m.id };
      } catch (e) {
        return { geoflux: 'reply', id: m.id, error: (e as Error).message };
      }
    },
  };
}

/** the answer of what holds no devices' state (a builtin, a user's module, a source) to a state command */
export const refuseState = async (m: StateCommand): Promise<Extract<ThreadMessage, { geoflux: 'reply' }>> => ({ geoflux: 'reply', id: m.id, error: 'only a kernel function hands its state over' });

/** why a module could not start, as its thread reports it (`problems`: the params the error is about) */
export function startFailed(e: unknown): Extract<ThreadMessage, { geoflux: 'failed' }> {
  const { message, name, problems } = e as Error & { problems?: { path: (string | number)[] }[] };
  return { geoflux: 'failed', error: message, errorName: name, problems: problems?.map((p) => ({ path: p.path })) };
}
