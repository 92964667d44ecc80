import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_WASM, isBuiltinKernel, unknownKernel } from './builtin-wasm.ts';
import { KernelError } from './kernel-instance.ts';

export interface LoadedModule {
  module: WebAssembly.Module;
  /** SHA-256 of the .wasm bytes */
  hash: string;
  path: string;
}

const modules = new Map<string, Promise<LoadedModule>>();

/** `hotspot` names a built-in kernel; anything ending in .wasm or holding a slash is a path (relative to `baseDir`). */
export function kernelPath(kernel: string, baseDir = process.cwd()): string {
  if (kernel.endsWith('.wasm') || kernel.includes('/')) return isAbsolute(kernel) ? kernel : resolve(baseDir, kernel);
  if (isBuiltinKernel(kernel)) return fileURLToPath(BUILTIN_WASM[kernel]());
  throw new KernelError(unknownKernel(kernel));
}

/** Compiles a kernel once per process (Node 20 cannot cache compiled wasm on disk, so per process it is). */
export async function loadKernelModule(kernel: string, baseDir?: string): Promise<LoadedModule> {
  const path = kernelPath(kernel, baseDir);
  let m = modules.get(path);
  if (!m) {
    m = (async () => {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch {
        const builtin = isBuiltinKernel(kernel) ? ' (the package ships it prebuilt: reinstall geoflux, or run npm run build in its repository)' : '';
        throw new KernelError(`kernel "${kernel}" not found at ${path}${builtin}`);
      }
      return { module: await WebAssembly.compile(new Uint8Array(bytes)), hash: createHash('sha256').update(bytes).digest('hex'), path };
    })();
    modules.set(path, m);
    m.catch(() => modules.delete(path));
  }
  return m;
}
