import { KernelTrap } from './kernel-error.ts';
import type { WasiHost } from './wasi.ts';

/**
 * WASI preview1 for a kernel in a browser page (or any JavaScript engine without node:wasi): no files, no
 * environment, no arguments, as in Node, so a kernel behaves the same everywhere. A kernel needs little of
 * WASI (AssemblyScript's shim imports fd_write and proc_exit; C and Rust add clocks, random and the
 * environment calls); every other import answers ENOSYS, and any descriptor but stdout/stderr is EBADF.
 */

const SUCCESS = 0;
const EBADF = 8;
const ENOSYS = 52;

class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`kernel exited with code ${code}`);
  }
}

export const browserWasi: WasiHost = (module, memory) => {
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const lines = ['', ''];
  const utf8 = new TextDecoder();
  // what a kernel prints (AssemblyScript's abort message, a C printf): to the console, a line at a time
  const write = (fd: number, text: string) => {
    const buffered = lines[fd - 1] + text;
    const parts = buffered.split('\n');
    lines[fd - 1] = parts.pop()!;
    for (const line of parts) (fd === 1 ? console.log : console.error)(`[kernel] ${line}`);
  };
  const calls: Record<string, (...a: number[]) => number> = {
    fd_write(fd, iovs, count, written) {
      if (fd !== 1 && fd !== 2) return EBADF;
      const v = view();
      let n = 0;
      for (let i = 0; i < count; i++) {
        const ptr = v.getUint32(iovs + i * 8, true);
        const len = v.getUint32(iovs + i * 8 + 4, true);
        write(fd, utf8.decode(bytes().subarray(ptr, ptr + len)));
        n += len;
      }
      v.setUint32(written, n, true);
      return SUCCESS;
    },
    proc_exit(code) {
      throw new ProcExit(code);
    },
    args_sizes_get: (argc, size) => (view().setUint32(argc, 0, true), view().setUint32(size, 0, true), SUCCESS),
    args_get: () => SUCCESS,
    environ_sizes_get: (count, size) => (view().setUint32(count, 0, true), view().setUint32(size, 0, true), SUCCESS),
    environ_get: () => SUCCESS,
    clock_res_get: (_id, out) => (view().setBigUint64(out, 1000n, true), SUCCESS),
    clock_time_get(id, _precision, out) {
      // realtime (0) is the epoch; the others need only be monotonic
      const ms = id === 0 ? Date.now() : performance.now();
      view().setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
      return SUCCESS;
    },
    random_get(ptr, len) {
      crypto.getRandomValues(bytes().subarray(ptr, ptr + len));
      return SUCCESS;
    },
    sched_yield: () => SUCCESS,
    fd_prestat_get: () => EBADF,
    fd_close: () => EBADF,
    fd_seek: () => EBADF,
    fd_read: () => EBADF,
    fd_fdstat_get: () => EBADF,
  };
  const wasi: Record<string, (...a: number[]) => number> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module === 'wasi_snapshot_preview1' && imp.kind === 'function') wasi[imp.name] = calls[imp.name] ?? (() => ENOSYS);
  }
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi, env: { memory } } as WebAssembly.Imports);
  try {
    (instance.exports._initialize as (() => void) | undefined)?.();
  } catch (e) {
    throw new KernelTrap(`kernel failed to start: ${(e as Error).message}`);
  }
  return instance;
};
