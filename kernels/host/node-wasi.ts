import { createRequire } from 'node:module';
// whoever loads node:wasi through here (the command, a worker thread, a library user's createGeofence) has
// Node's warning that it is experimental silenced first
import '../../runtime/quiet-wasi-warning.ts';
import { KernelError } from './kernel-error.ts';
import type { WasiHost } from './wasi.ts';

type NodeWasi = typeof import('node:wasi');
let nodeWasiModule: NodeWasi | undefined;
// loaded on first use, not imported: Node warns that node:wasi is experimental when it loads, and the
// listener that silences that warning must be in place before it does
const WASI = () => (nodeWasiModule ??= createRequire(import.meta.url)('node:wasi') as NodeWasi).WASI;

/** whether a module imports anything of WASI (an AssemblyScript kernel whose aborts trap imports nothing) */
const usesWasi = (module: WebAssembly.Module) => WebAssembly.Module.imports(module).some((i) => i.module.startsWith('wasi'));

/** an instance of a module that needs no WASI, its static initialisers run (a reactor's _initialize) */
function withoutWasi(module: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Instance {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  (instance.exports._initialize as (() => void) | undefined)?.();
  return instance;
}

/** Node's own WASI: no preopened directories, no environment, no arguments; none made for a kernel that imports none of it. */
export const nodeWasi: WasiHost = (module, memory) => {
  if (!usesWasi(module)) return withoutWasi(module, memory);
  const wasi = new (WASI())({ version: 'preview1', args: [], env: {}, preopens: {}, returnOnExit: true });
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport, env: { memory } } as WebAssembly.Imports);
  // a reactor: _initialize runs the module's static initialisers; node:wasi wants `memory` among the exports
  wasi.initialize({ exports: { ...instance.exports, memory } } as unknown as WebAssembly.Instance);
  return instance;
};

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

/** @wasmer/wasi: only its own empty in-memory file system is reachable. */
export const wasmerWasi: WasiHost = (module, memory) => {
  if (!wasmer) throw new KernelError('@wasmer/wasi is not loaded: await loadWasmer() first');
  // a kernel that imports nothing of WASI (an AssemblyScript one whose aborts trap) leaves @wasmer/wasi unable
  // to tell the WASI version, and needs none
  if (!usesWasi(module)) return withoutWasi(module, memory);
  const instance = new wasmer.WASI({ args: [], env: {} }).instantiate(module, { env: { memory } });
  (instance.exports._initialize as (() => void) | undefined)?.();
  return instance;
};

export type WasiName = 'node' | 'wasmer';

/** The WASI a workflow or a command names (`wasi: node | wasmer`), ready to use. */
export async function wasiNamed(name: WasiName = 'node'): Promise<WasiHost> {
  if (name === 'wasmer') {
    await loadWasmer();
    return wasmerWasi;
  }
  return nodeWasi;
}
