import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';
import type { GpsBatch } from '../codecs/gps-batch.ts';
import { batchBytes, batchInto } from './kernels/batch-into.ts';

/**
 * Runs WASI kernels (docs/kernel-abi.md). Each module is compiled once per process and shared; instances
 * are cheap (about a millisecond) and sandboxed: no preopened directories, no environment, no arguments,
 * and a memory the host creates with a hard page limit.
 */

const BUILT = fileURLToPath(new URL('../kernels/build/', import.meta.url));

export class KernelError extends Error {
  override readonly name = 'KernelError';
}

/** The kernel trapped (a bug in it, or it ran out of memory): that instance is gone, the host is not. */
export class KernelTrap extends Error {
  override readonly name = 'KernelTrap';
}

const modules = new Map<string, Promise<{ module: WebAssembly.Module; hash: string; path: string }>>();

/** `hotspot` names a built-in kernel (kernels/build/hotspot.wasm); anything with a slash or .wasm is a path. */
export function kernelPath(kernel: string, baseDir = process.cwd()): string {
  if (kernel.endsWith('.wasm') || kernel.includes('/')) return isAbsolute(kernel) ? kernel : resolve(baseDir, kernel);
  return resolve(BUILT, `${kernel}.wasm`);
}

/** Compiles a kernel once per process, keyed by the hash of its bytes. */
export function loadKernelModule(kernel: string, baseDir?: string): Promise<{ module: WebAssembly.Module; hash: string; path: string }> {
  const path = kernelPath(kernel, baseDir);
  let m = modules.get(path);
  if (!m) {
    m = (async () => {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch {
        throw new KernelError(`kernel "${kernel}" not found at ${path}${path.startsWith(BUILT) ? ' (run npm run build:kernels)' : ''}`);
      }
      return { module: await WebAssembly.compile(new Uint8Array(bytes)), hash: createHash('sha256').update(bytes).digest('hex'), path };
    })();
    modules.set(path, m);
    m.catch(() => modules.delete(path));
  }
  return m;
}

export interface KernelExports {
  abi_version(): number;
  alloc(size: number): number;
  free(ptr: number): void;
  error_ptr(): number;
  error_len(): number;
  init(ptr: number, len: number): number;
  process(batch: number, n: number, out: number, cap: number): number;
  [name: string]: unknown;
}

export interface InstanceOptions {
  /** memory cap in 64 KiB pages (default 1024: 64 MiB) */
  maxPages?: number;
  /** WASI implementation: Node's own (default), or @wasmer/wasi, which also runs in browsers */
  wasi?: 'node' | 'wasmer';
}

type Wasmer = typeof import('@wasmer/wasi');
let wasmer: Wasmer | undefined;

/** @wasmer/wasi brings its own wasm, which has to be instantiated once per process before first use. */
export async function loadWasmer(): Promise<Wasmer> {
  if (!wasmer) {
    const m = (await import('@wasmer/wasi')) as Wasmer & { default?: Wasmer };
    const lib = (m.default ?? m) as Wasmer;
    await lib.init();
    wasmer = lib;
  }
  return wasmer;
}

/** WASI imports and the reactor's start-up call, for either implementation; nothing of the host is exposed. */
function wasiFor(kind: 'node' | 'wasmer', module: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Instance {
  if (kind === 'wasmer') {
    if (!wasmer) throw new KernelError('@wasmer/wasi is not loaded: await loadWasmer() first');
    const wasi = new wasmer.WASI({ args: [], env: {} });
    const instance = wasi.instantiate(module, { env: { memory } });
    (instance.exports._initialize as (() => void) | undefined)?.();
    return instance;
  }
  const wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens: {}, returnOnExit: true });
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport, env: { memory } } as WebAssembly.Imports);
  // a reactor: _initialize runs the module's static initialisers; node:wasi wants `memory` among the exports
  wasi.initialize({ exports: { ...instance.exports, memory } } as unknown as WebAssembly.Instance);
  return instance;
}

/** One live kernel instance and its memory. */
export class KernelInstance {
  private constructor(
    readonly exports: KernelExports,
    readonly memory: WebAssembly.Memory,
  ) {}

  /** Synchronous: with the module compiled, an instance is ready in about a millisecond. */
  static create(module: WebAssembly.Module, opts: InstanceOptions = {}): KernelInstance {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: opts.maxPages ?? 1024 });
    const instance = wasiFor(opts.wasi ?? 'node', module, memory);
    const k = new KernelInstance(instance.exports as unknown as KernelExports, memory);
    if (k.exports.abi_version() !== 1) throw new KernelError(`kernel speaks ABI ${k.exports.abi_version()}, this host speaks 1`);
    return k;
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, len);
  }

  /** Calls an export, turning a trap into KernelTrap (the caller must then drop this instance). */
  call<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      // anything thrown out of wasm means the instance is unusable: a trap, or an AssemblyScript abort
      // (which WASI turns into proc_exit)
      if (e instanceof KernelError || e instanceof KernelTrap) throw e;
      throw new KernelTrap(`kernel trapped: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  /** Passes params (JSON) to init; throws KernelError with the kernel's own message on a bad status. */
  init(params: unknown): void {
    const json = Buffer.from(JSON.stringify(params ?? {}), 'utf8');
    const ptr = this.call(() => this.exports.alloc(json.length));
    this.bytes(ptr, json.length).set(json);
    const status = this.call(() => this.exports.init(ptr, json.length));
    this.exports.free(ptr);
    if (status !== 0) throw new KernelError(this.errorMessage() || `init failed with status ${status}`);
  }

  errorMessage(): string {
    return Buffer.from(this.bytes(this.exports.error_ptr(), this.exports.error_len())).toString('utf8');
  }

  /** a region of kernel memory that stays allocated and is grown (never shrunk) as needed */
  region(): (bytes: number) => number {
    let ptr = 0;
    let size = 0;
    return (bytes) => {
      if (bytes > size) {
        if (ptr) this.exports.free(ptr);
        size = Math.max(bytes, size * 2, 4096);
        ptr = this.call(() => this.exports.alloc(size));
      }
      return ptr;
    };
  }
}

/**
 * A kernel as its users need it: one live instance plus a warm spare, prepared the same way (params,
 * data). A trap loses that instance's state, not a cold start: the spare takes over at once, a new spare
 * is made on the next turn, and the error goes to the caller with the batch that caused it.
 */
export class KernelRunner {
  private k: KernelInstance;
  private spare: KernelInstance | undefined;
  private batchAt!: (bytes: number) => number;
  private outAt!: (bytes: number) => number;
  /** instances replaced after a trap */
  replaced = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly prepare: (k: KernelInstance) => void,
    private readonly opts: InstanceOptions = {},
  ) {
    this.k = this.fresh();
    this.spare = this.fresh();
    this.regions();
  }

  get instance(): KernelInstance {
    return this.k;
  }

  private fresh(): KernelInstance {
    const k = KernelInstance.create(this.module, this.opts);
    this.prepare(k);
    return k;
  }

  private regions(): void {
    this.batchAt = this.k.region();
    this.outAt = this.k.region();
  }

  guarded<T>(f: (k: KernelInstance) => T): T {
    try {
      return this.k.call(() => f(this.k));
    } catch (e) {
      if (!(e instanceof KernelTrap)) throw e;
      this.k = this.spare ?? this.fresh();
      this.spare = undefined;
      this.regions();
      this.replaced++;
      setImmediate(() => (this.spare ??= this.fresh()));
      throw e;
    }
  }

  /**
   * Copies a batch in (one copy per column; `device` replaces the batch's device column, e.g. with ids
   * stable across batches) and calls `process` with room for `cap` rows of `rowBytes` each.
   */
  process(batch: GpsBatch, cap: number, rowBytes: number, device?: Uint32Array): { k: KernelInstance; out: number; n: number } {
    return this.guarded((k) => {
      const ptr = this.batchAt(batchBytes(batch.n));
      batchInto(k.memory, ptr, device ? { ...batch, device } : batch);
      const out = this.outAt(cap * rowBytes);
      const n = k.exports.process(ptr, batch.n, out, cap);
      if (n < 0) throw new KernelError(k.errorMessage() || `process failed with status ${n}`);
      return { k, out, n };
    });
  }

  /** room for `bytes` of output, for exports other than process */
  outRegion(bytes: number): number {
    return this.outAt(bytes);
  }
}
