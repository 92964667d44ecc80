/**
 * How a kernel gets its WASI imports: instantiate a preview1 reactor with the host's memory and run its
 * start-up (`_initialize`). Node uses node:wasi or @wasmer/wasi (kernels/host/node-wasi.ts), a browser
 * page the shim in kernels/host/browser-wasi.ts; the rest of the host is the same everywhere.
 */
export type WasiHost = (module: WebAssembly.Module, memory: WebAssembly.Memory) => WebAssembly.Instance;
