import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserWasi } from './browser-wasi.ts';
import { BUILTIN_WASM, isBuiltinKernel, unknownKernel, type BuiltinKernel } from './builtin-wasm.ts';
import { compileKernel, compileKernelSync } from './compile.ts';
import { KernelError } from './kernel-error.ts';
import { kernelSchema } from './kernel-instance.ts';
import type { KernelSchema } from './kernel-schema.ts';

export interface LoadedModule {
  module: WebAssembly.Module;
  /** SHA-256 of the .wasm bytes */
  hash: string;
  path: string;
}

const modules = new Map<string, Promise<LoadedModule>>();

/** `hotspot` names a built-in kernel; anything ending in .wasm or holding a slash is a path (relative to `baseDir`). */
export const isKernelFile = (kernel: string): boolean => kernel.endsWith('.wasm') || kernel.includes('/');

export function kernelPath(kernel: string, baseDir = process.cwd()): string {
  if (isKernelFile(kernel)) return isAbsolute(kernel) ? kernel : resolve(baseDir, kernel);
  if (isBuiltinKernel(kernel)) return fileURLToPath(BUILTIN_WASM[kernel]());
  throw new KernelError(unknownKernel(kernel));
}

const unreadable = (kernel: string, path: string, e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return new KernelError(`kernel "${kernel}": ${path} is a directory, not a .wasm file`);
  if (code !== 'ENOENT') return new KernelError(`kernel "${kernel}": cannot read ${path} (${code ?? (e as Error).message})`);
  const builtin = isBuiltinKernel(kernel) ? ' (the package ships it prebuilt: reinstall geoflux, or run npm run build in its repository)' : '';
  return new KernelError(`kernel "${kernel}" not found at ${path}${builtin}`);
};

/** Compiles a kernel once per process (Node 20 cannot cache compiled wasm on disk, so per process it is). */
export async function loadKernelModule(kernel: string, baseDir?: string): Promise<LoadedModule> {
  const path = kernelPath(kernel, baseDir);
  let m = modules.get(path);
  if (!m) {
    m = (async () => {
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (e) {
        throw unreadable(kernel, path, e);
      }
      return { module: await compileKernel(new Uint8Array(bytes), path), hash: createHash('sha256').update(bytes).digest('hex'), path };
    })();
    modules.set(path, m);
    m.catch(() => modules.delete(path));
  }
  return m;
}

const builtinSchemas = new Map<BuiltinKernel, KernelSchema>();

/**
 * A built-in kernel's schema, synchronously (the workflow loader checks params as it reads the file): the
 * module compiled and asked once per process. The sandbox's WASI shim serves: a schema needs no WASI.
 */
export function builtinSchema(kernel: BuiltinKernel): KernelSchema {
  let s = builtinSchemas.get(kernel);
  if (!s) {
    const path = kernelPath(kernel);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw unreadable(kernel, path, e);
    }
    s = kernelSchema(compileKernelSync(new Uint8Array(bytes), path), { wasi: browserWasi });
    builtinSchemas.set(kernel, s);
  }
  return s;
}
