import { memoryPages } from './compile.ts';
import { KernelError, KernelTrap } from './kernel-error.ts';
import { parseKernelSchema, type KernelSchema } from './kernel-schema.ts';
import type { ParamsBlock } from './params.ts';
import type { WasiHost } from './wasi.ts';
import { thousands } from '../../log/thousands.ts';

/**
 * One instance of a WASI kernel (docs/kernel-abi.md), wherever there is WebAssembly: nothing here touches
 * Node, so the same code hosts a kernel at the edge, in the cloud and in a browser page. Instances are cheap
 * (well under a millisecond from a compiled module) and sandboxed: the WASI given them reaches no host
 * files, and their memory is created here with a hard page limit.
 */

export const ABI_VERSION = 2;

/** The export table of ABI version 2. */
export interface KernelExports {
  abi_version(): number;
  schema_ptr(): number;
  schema_len(): number;
  alloc(size: number): number;
  dealloc(ptr: number): void;
  error_ptr(): number;
  error_len(): number;
  init(ptr: number, len: number): number;
  process(batch: number, n: number, out: number, cap: number): number;
  flush(out: number, cap: number): number;
  counter(i: number): number;
  snapshot?(ptr: number, cap: number): number;
  restore?(ptr: number, len: number): number;
  export_devices?(ids: number, n: number, ptr: number, cap: number): number;
  import_devices?(ptr: number, len: number): number;
  drop_devices?(ids: number, n: number): number;
}

/** The optional exports that move some devices' state (docs/kernel-abi.md, Devices moving): all or none. */
export const DEVICE_EXPORTS = ['export_devices', 'import_devices', 'drop_devices'] as const;

export const REQUIRED_EXPORTS = ['abi_version', 'schema_ptr', 'schema_len', 'alloc', 'dealloc', 'error_ptr', 'error_len', 'init', 'process', 'flush', 'counter'] as const;

export interface InstanceOptions {
  /** memory cap in 64 KiB pages (default 1024: 64 MiB) */
  maxPages?: number;
  /** how the instance gets its WASI imports */
  wasi: WasiHost;
}

/** What a kernel needs to make its instances: the compiled module and how to instantiate it. */
export interface KernelSetup extends InstanceOptions {
  module: WebAssembly.Module;
}

const text = new TextDecoder();
const schemas = new WeakMap<WebAssembly.Module, KernelSchema>();

/** The schema of a compiled kernel (read from an instance made for the purpose, once per module). */
export function kernelSchema(module: WebAssembly.Module, opts: InstanceOptions): KernelSchema {
  return schemas.get(module) ?? KernelInstance.create(module, opts).schema();
}

const MIB_PAGES = 16;
const mib = (pages: number) => `${thousands(pages / MIB_PAGES)} MiB`;

/**
 * The two ways to link a kernel that the host cannot run, refused with what to change: they used to show only
 * downstream (a schema read from a memory the kernel does not use, `kernel schema is not JSON`; a LinkError,
 * `memory import 0 is smaller than initial 32768`).
 */
function checkMemory(module: WebAssembly.Module, initial: number, maximum: number): void {
  if (!WebAssembly.Module.imports(module).some((i) => i.kind === 'memory')) {
    throw new KernelError('kernel does not import its memory (env.memory), so the host can neither give it one nor cap it: link it with --import-memory (clang -Wl,--import-memory, AssemblyScript --importMemory, rustc -C link-arg=--import-memory)');
  }
  if (initial > maximum) {
    throw new KernelError(`kernel asks for ${initial} pages (${mib(initial)}) of memory to start with, over the host’s cap of ${maximum} pages (${mib(maximum)}): link it with less (clang -Wl,--initial-memory=<bytes>, a smaller stack or static data), or raise the cap (maxPages)`);
  }
}

export class KernelInstance {
  private constructor(
    readonly exports: KernelExports,
    private readonly raw: WebAssembly.Exports,
    readonly memory: WebAssembly.Memory,
    private readonly module: WebAssembly.Module,
  ) {}

  /** Synchronous: with the module compiled, an instance is ready in well under a millisecond. */
  static create(module: WebAssembly.Module, opts: InstanceOptions): KernelInstance {
    const maximum = opts.maxPages ?? 1024;
    const initial = memoryPages(module);
    checkMemory(module, initial, maximum);
    const memory = new WebAssembly.Memory({ initial, maximum });
    const instance = opts.wasi(module, memory);
    const raw = instance.exports;
    const version = typeof raw.abi_version === 'function' ? (raw.abi_version as () => number)() : undefined;
    if (version !== ABI_VERSION) throw new KernelError(`kernel speaks ABI ${version ?? '(none: no abi_version export)'}, this host speaks ${ABI_VERSION} (docs/kernel-abi.md)`);
    const missing = REQUIRED_EXPORTS.filter((name) => typeof raw[name] !== 'function');
    if (missing.length) throw new KernelError(`kernel lacks the export${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (docs/kernel-abi.md)`);
    if ((typeof raw.snapshot === 'function') !== (typeof raw.restore === 'function')) throw new KernelError('kernel exports one of snapshot and restore: a kernel with state exports both');
    const devices = DEVICE_EXPORTS.filter((name) => typeof raw[name] === 'function');
    if (devices.length && devices.length < DEVICE_EXPORTS.length) throw new KernelError(`kernel exports ${devices.join(', ')} but not ${DEVICE_EXPORTS.filter((d) => !devices.includes(d)).join(', ')}: a kernel that moves devices exports all three`);
    if (devices.length && typeof raw.snapshot !== 'function') throw new KernelError('kernel exports export_devices but not snapshot and restore: a kernel that moves devices has state, and exports both');
    return new KernelInstance(raw as unknown as KernelExports, raw, memory, module);
  }

  /** What the kernel declares itself to be; read once per module. */
  schema(): KernelSchema {
    let s = schemas.get(this.module);
    if (!s) {
      const [ptr, len, size] = [this.call(() => this.exports.schema_ptr()), this.call(() => this.exports.schema_len()), this.memory.buffer.byteLength];
      if (!(ptr >= 0 && len >= 0 && ptr + len <= size)) throw new KernelError(`kernel schema_ptr() ${ptr} and schema_len() ${len} point past its memory (${size} bytes): schema_len must return the length in bytes of the schema at schema_ptr`);
      s = parseKernelSchema(this.text(ptr, len));
      schemas.set(this.module, s);
    }
    return s;
  }

  /** the kernel keeps state it can hand over (snapshot and restore) */
  get stateful(): boolean {
    return this.exports.snapshot !== undefined;
  }

  /** the kernel can move the state of some devices (export_devices, import_devices, drop_devices), not only all of it */
  get movesDevices(): boolean {
    return this.exports.export_devices !== undefined;
  }

  bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, len);
  }

  /** UTF-8 text the kernel wrote at `ptr` */
  text(ptr: number, len: number): string {
    return text.decode(this.bytes(ptr, len));
  }

  /** An export beyond the ABI's (hotspot's gi_points), checked to be there. */
  fn<F extends (...args: number[]) => number>(name: string): F {
    const f = this.raw[name];
    if (typeof f !== 'function') throw new KernelError(`kernel has no export ${name}`);
    return f as F;
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

  errorMessage(): string {
    return this.text(this.exports.error_ptr(), this.exports.error_len());
  }

  /** a status the kernel returned: negative (or, for init and restore, not 0) is an error with its message */
  check(status: number, what: string, ok = (s: number) => s >= 0): number {
    if (!ok(status)) throw new KernelError(this.errorMessage() || `${what} failed with status ${status}`);
    return status;
  }

  /**
   * Copies the params block in and calls init. The block is never freed: the kernel may keep pointers into
   * it (it reads fences and road graphs in place).
   */
  init(block: ParamsBlock): void {
    const ptr = this.call(() => this.exports.alloc(block.bytes.length));
    this.bytes(ptr, block.bytes.length).set(block.bytes);
    const view = new DataView(this.memory.buffer);
    for (const at of block.pointers) view.setUint32(ptr + at, view.getUint32(ptr + at, true) + ptr, true);
    this.check(this.call(() => this.exports.init(ptr, block.bytes.length)), 'init', (s) => s === 0);
  }

  /** the values of the schema's counters, by name */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    this.schema().counters.forEach((name, i) => (out[name] = this.exports.counter(i)));
    return out;
  }

  /** a region of kernel memory that stays allocated and is grown (never shrunk) as needed */
  region(): (bytes: number) => number {
    let ptr = 0;
    let size = 0;
    return (bytes) => {
      if (bytes > size) {
        if (ptr) this.exports.dealloc(ptr);
        size = Math.max(bytes, size * 2, 4096);
        ptr = this.call(() => this.exports.alloc(size));
      }
      return ptr;
    };
  }
}
