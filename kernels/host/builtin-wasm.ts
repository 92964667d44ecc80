import { didYouMean } from '../../workflows/errors.ts';

/**
 * Where the built-in kernels' .wasm files are, beside this module in the package (kernels/build/, copied to
 * dist/kernels/build/ by the build). One literal `new URL(..., import.meta.url)` per file, the form bundlers
 * (webpack, Vite, Parcel) recognise as an asset to ship.
 */
export const BUILTIN_WASM = {
  geofence: () => new URL('../build/geofence.wasm', import.meta.url),
  hotspot: () => new URL('../build/hotspot.wasm', import.meta.url),
  mapmatch: () => new URL('../build/mapmatch.wasm', import.meta.url),
  roam: () => new URL('../build/roam.wasm', import.meta.url),
} as const;

export type BuiltinKernel = keyof typeof BUILTIN_WASM;

export const BUILTIN_KERNELS = Object.keys(BUILTIN_WASM) as BuiltinKernel[];

export const isBuiltinKernel = (name: string): name is BuiltinKernel => Object.hasOwn(BUILTIN_WASM, name);

/** A kernel name that is neither built in nor a .wasm path: the error suggests the nearest and lists what there is. */
export const unknownKernel = (name: string): string =>
  `unknown kernel "${name}"${didYouMean(name, BUILTIN_KERNELS)} (built-in: ${BUILTIN_KERNELS.join(', ')}; or a path to a .wasm file)`;
