import type { GpsBatch } from '../../codecs/gps-batch.ts';
import { batchBytes, batchInto } from './batch-into.ts';
import type { WasiHost } from './wasi.ts';

/**
 * Runs WASI kernels (docs/kernel-abi.md), wherever there is WebAssembly: nothing here touches Node, so the
 * same code hosts a kernel at the edge, in the cloud and in a browser page. Instances are cheap (well under
 * a millisecond from a compiled module) and sandboxed: the WASI given them reaches no host files, and their
 * memory is created here with a hard page limit.
 */

export class KernelError extends Error {
  override readonly name = 'KernelError';
}

/** The kernel trapped (a bug in it, or it ran out of memory): that instance is gone, the host is not. */
export class KernelTrap extends Error {
  override readonly name = 'KernelTrap';
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
  /** how the instance gets its WASI imports */
  wasi: WasiHost;
}

/** What a kernel wrapper needs to make its instances: the compiled module and how to instantiate it. */
export interface KernelSetup extends InstanceOptions {
  module: WebAssembly.Module;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** One live kernel instance and its memory. */
export class KernelInstance {
  private constructor(
    readonly exports: KernelExports,
    readonly memory: WebAssembly.Memory,
  ) {}

  /** Synchronous: with the module compiled, an instance is ready in well under a millisecond. */
  static create(module: WebAssembly.Module, opts: InstanceOptions): KernelInstance {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: opts.maxPages ?? 1024 });
    const instance = opts.wasi(module, memory);
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
    const json = utf8.encode(JSON.stringify(params ?? {}));
    const ptr = this.call(() => this.exports.alloc(json.length));
    this.bytes(ptr, json.length).set(json);
    const status = this.call(() => this.exports.init(ptr, json.length));
    this.exports.free(ptr);
    if (status !== 0) throw new KernelError(this.errorMessage() || `init failed with status ${status}`);
  }

  errorMessage(): string {
    return text.decode(this.bytes(this.exports.error_ptr(), this.exports.error_len()));
  }

  /** UTF-8 text the kernel wrote at `ptr` */
  text(ptr: number, len: number): string {
    return text.decode(this.bytes(ptr, len));
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
    private readonly opts: InstanceOptions,
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
      setTimeout(() => (this.spare ??= this.fresh()), 0);
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
