/**
 * Compiling a kernel, and the one thing about its module the WebAssembly JS API does not tell: how many pages
 * of memory it declares at least (Rust's default stack alone asks for 17), which the memory the host creates
 * for each instance must start with.
 */

const minimumPages = new WeakMap<WebAssembly.Module, number>();

/** what the host's memory starts with when the module's own minimum is not known (a module compiled elsewhere) */
export const DEFAULT_PAGES = 2;

export const memoryPages = (module: WebAssembly.Module): number => minimumPages.get(module) ?? DEFAULT_PAGES;

export async function compileKernel(bytes: Uint8Array): Promise<WebAssembly.Module> {
  return remember(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), bytes);
}

/** Synchronous: for checking a kernel's schema while a workflow loads (fine in Node for modules of any size). */
export function compileKernelSync(bytes: Uint8Array): WebAssembly.Module {
  return remember(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), bytes);
}

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
