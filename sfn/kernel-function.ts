import { pack, unpack } from '../codecs/msgpack.ts';
import type { BatchKernel } from '../kernels/batch-kernel.ts';
import { kernelMaker, type KernelMaker } from '../kernels/create-kernel.ts';
import type { KernelState } from '../kernels/kernel.ts';
import { holdsNothing } from '../kernels/host/device-state.ts';
import type { WasiName } from '../kernels/host/node-wasi.ts';
import type { FunctionContext, FunctionModule } from './function-module.ts';
import { KernelBatches, KernelRunStats } from './kernel-batches.ts';
import { openKernel } from './open-kernel.ts';

export interface KernelFunctionSpec {
  kernel: string;
  params?: Record<string, unknown>;
  batch?: { max?: number; ms?: number };
  wasi?: WasiName;
  /** ms a call may take before the kernel's thread is stopped; 0: the kernel runs in the calling thread */
  timeout: number;
  /** the workflow's directory: kernel paths and files named in params resolve against it */
  baseDir: string;
}

/**
 * A workflow function that is just a kernel (`kernel: geofence`, `params: ...`): each frame's fixes go from
 * its columns into the kernel, by the batch (those that came while the kernel was busy go together), and
 * the events come out. One module per instance, since each instance has a kernel (and its per-device
 * state) of its own; the kernel is made before the function joins the zipper, so one that cannot start
 * fails start-up. A kernel in this thread (no `timeout`) is made by `made` when given (what a parked
 * instance of the same function kept: its files are not read nor its params prepared again), and `maker()`
 * is what made it, for its host to keep when the instance parks.
 */
export function kernelFunction(spec: KernelFunctionSpec, made?: KernelMaker): FunctionModule & { stats: KernelRunStats; devices: DeviceStateMover; maker(): KernelMaker | undefined } {
  const stats = new KernelRunStats();
  let maker: KernelMaker | undefined;
  let runner: KernelBatches | undefined;
  // every device the kernel has seen or taken over: what a hand-over exports (the kernel's ids are its own)
  const seen = new Set<string>();
  const started = () => runner ?? Promise.reject(new Error('the kernel has not started'));
  const exportDevices = async (only?: string[]) => {
    const r = await started();
    const devices = only ? only.filter((d) => seen.has(d)) : [...seen];
    return packed({ devices, state: await r.exportDevices(devices) });
  };
  return {
    stats,
    batch: spec.batch,
    devices: {
      held: () => [...seen],
      export: exportDevices,
      async exportAll() {
        const whole = await (await started()).wholeState();
        return whole ? { bytes: packed({ devices: [...seen], whole }), whole: true } : { bytes: await exportDevices(), whole: false };
      },
      async import(bytes) {
        const r = await started();
        const moved = unpack(bytes) as MovedDevices;
        if ('whole' in moved) {
          // it replaces all the kernel holds: into an instance that holds some, it would lose theirs
          if (seen.size) throw new Error(`a whole state goes only into an instance that holds none, and this one has the fixes of ${seen.size} devices already`);
          await r.restoreWhole(moved.whole);
        } else await r.importDevices(moved.state);
        for (const d of moved.devices) seen.add(d);
      },
      async drop(only) {
        const devices = only ? only.filter((d) => seen.has(d)) : [...seen];
        await (await started()).dropDevices(devices);
        for (const d of devices) seen.delete(d);
      },
    },
    maker: () => maker,
    async batches(ctx: FunctionContext) {
      const opts = { baseDir: spec.baseDir, wasi: spec.wasi, log: ctx.log };
      let kernel: BatchKernel;
      if (spec.timeout) kernel = await openKernel(spec.kernel, spec.params ?? {}, { ...opts, timeout: spec.timeout });
      else kernel = (maker = made ?? (await kernelMaker(spec.kernel, spec.params ?? {}, opts)))();
      const r = (runner = new KernelBatches(kernel, { stats, log: ctx.log.child(`kernel ${spec.kernel}`) }));
      return {
        process: (b) => {
          for (const d of b.devices) seen.add(d);
          return r.run(b);
        },
        flush: () => r.flush(),
      };
    },
  };
}

/** A kernel function's per-device state, out of one instance and into another (a replace, a scale change: serve/move-devices.ts). */
export interface DeviceStateMover {
  /** the devices the instance has seen or taken over */
  held(): string[];
  /** the state of every device the instance has seen (or of those of `only` it has), as the kernel exports it (docs/kernel-abi.md, Devices moving) */
  export(only?: string[]): Promise<Uint8Array>;
  /**
   * every device's state as `export` takes it or, of a kernel whose state moves whole only (hotspot), all of
   * it (`whole`), which goes only into an instance that holds nothing yet: what a clean stop of serve saves
   */
  exportAll(): Promise<{ bytes: Uint8Array; whole: boolean }>;
  /** adds an export's devices (or puts back a whole state); rejects when the kernel refuses them (another kernel, another state layout) */
  import(bytes: Uint8Array): Promise<void>;
  /** forgets every device (or those of `only`): they went to another instance, whose rows they are now */
  drop(only?: string[]): Promise<void>;
}

/** the devices' ids, with their state as the kernel exports it, or all of a kernel's state that moves whole only */
type MovedDevices = { devices: string[]; state: Uint8Array } | { devices: string[]; whole: KernelState };

/**
 * a buffer of its own: the packer's result is a view of its working buffer (233 KB behind the 57 KB of 1,000
 * geofence devices), all of which a post to another thread clones: to serve as a parked function's state,
 * and from there again into its wake's start
 */
const packed = (moved: MovedDevices): Uint8Array => new Uint8Array(pack(moved));

/** how many devices an export (DeviceStateMover.export) holds */
export const deviceIdsIn = (bytes: Uint8Array): string[] => (unpack(bytes) as MovedDevices).devices;

/**
 * An export (DeviceStateMover.export) that holds no state: its kernel keeps none (docs/kernel-abi.md: it
 * exports no device), or holds no device yet. The devices it lists were only seen; no kernel needs it.
 */
export const holdsNoState = (bytes: Uint8Array): boolean => {
  const moved = unpack(bytes) as MovedDevices;
  return 'state' in moved && holdsNothing(moved.state);
};
