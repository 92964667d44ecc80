/**
 * Compiling a kernel, and the one thing about its module the WebAssembly JS API does not tell: how many pages
 * of memory it declares at least (Rust's default stack alone asks for 17), which the memory the host creates
 * for each instance must start with.
 */

import { KernelError } from './kernel-error.ts';

const minimumPages = new WeakMap<WebAssembly.Module, number>();

/** what the host's memory starts with when the module's own minimum is not known (a module compiled elsewhere) */
export const DEFAULT_PAGES = 2;

export const memoryPages = (module: WebAssembly.Module): number => minimumPages.get(module) ?? DEFAULT_PAGES;

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const hex = (b: ArrayLike<number>) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/**
 * Why `bytes` cannot be a WebAssembly module at all (empty, or not starting with its magic: a text file, a
 * download's error page), in words; undefined when they may be one. V8 says this as `BufferSource argument
 * is empty` or `expected magic word 00 61 73 6d, found 67 61 72 62 @+0`, naming no file.
 */
export function notAModule(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'not a WebAssembly module (0 bytes)';
  const head = bytes.subarray(0, 4);
  if (head.length < 4 || MAGIC.some((m, i) => head[i] !== m)) return `not a WebAssembly module (bad magic: it starts ${hex(head)}, where a module starts ${hex(MAGIC)})`;
  return undefined;
}

/** `source` names the module in errors (its file) */
export async function compileKernel(bytes: Uint8Array, source = 'the kernel'): Promise<WebAssembly.Module> {
  refuseNonModule(bytes, source);
  return remember(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>).catch((e) => Promise.reject(refused(source, e))), bytes);
}

/** Synchronous: for checking a kernel's schema while a workflow loads (fine in Node for modules of any size). */
export function compileKernelSync(bytes: Uint8Array, source = 'the kernel'): WebAssembly.Module {
  refuseNonModule(bytes, source);
  try {
    return remember(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), bytes);
  } catch (e) {
    throw refused(source, e);
  }
}

function refuseNonModule(bytes: Uint8Array, source: string): void {
  const problem = notAModule(bytes);
  if (problem) throw new KernelError(`${source}: ${problem}`);
}

/** V8's reason (a bad version, a broken section), naming the file, without V8's `WebAssembly.compile(): ` */
const refused = (source: string, e: unknown) => new KernelError(`${source}: not a valid WebAssembly module: ${(e as Error).message.replace(/^WebAssembly\.\w+\(\): /, '')}`, { cause: e });

function remember(module: WebAssembly.Module, bytes: Uint8Array): WebAssembly.Module {
  minimumPages.set(module, importedMemoryMinimum(bytes) ?? DEFAULT_PAGES);
  return module;
}

/** The minimum of the `env.memory` import, read from the import section; undefined when there is none. */
export function importedMemoryMinimum(b: Uint8Array): number | undefined {
  let p = 8;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let x: number;
    do {
      x = b[p++];
      r += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x & 0x80 && p < b.length);
    return r;
  };
  const name = () => {
    const n = leb();
    const s = new TextDecoder().decode(b.subarray(p, p + n));
    p += n;
    return s;
  };
  const limits = () => {
    const flags = b[p++];
    const min = leb();
    if (flags & 1) leb();
    return min;
  };
  while (p < b.length) {
    const id = b[p++];
    const end = leb() + p;
    if (id === 2) {
      for (let i = 0, n = leb(); i < n; i++) {
        const [mod, field] = [name(), name()];
        const kind = b[p++];
        if (kind === 0) leb(); // function: type index
        else if (kind === 1) (p++, limits()); // table: element type, limits
        else if (kind === 3) p += 2; // global: value type, mutability
        else if (kind === 2) {
          const min = limits();
          if (mod === 'env' && field === 'memory') return min;
        }
      }
      return undefined;
    }
    p = end;
  }
  return undefined;
}
