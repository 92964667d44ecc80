import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLANG_WASI, requireTool } from './system-tool.ts';

/** where geoflux_kernel.h is, for kernels a test writes in C */
const HEADER_DIR = resolve('examples/kernels/c');

/** the link a kernel needs (docs/kernel-abi.md); a test that wants it wrong says so */
export const KERNEL_LINK = ['-Wl,--import-memory'];

/** The source of a kernel on geoflux_kernel.h: its schema, then `body` (init, process, flush, counter). */
export const onHeader = (schema: object, body: string) => `#define GF_SCHEMA ${JSON.stringify(JSON.stringify(schema))}\n#include "geoflux_kernel.h"\n${body}\n`;

/**
 * A kernel a test writes in C, compiled with Debian's clang the way the README builds one; `link` replaces the
 * usual link flags, for kernels built wrong on purpose. Returns the .wasm file's path. Skips the test when
 * clang for wasm32-wasi is missing (fails it with CI=true).
 */
export function cKernel(ctx: { skip(note: string): never }, source: string, link = KERNEL_LINK): string {
  const clang = requireTool(ctx, CLANG_WASI);
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-c-kernel-'));
  const src = join(dir, 'k.c');
  writeFileSync(src, source);
  const wasm = join(dir, 'k.wasm');
  execFileSync(clang, ['--target=wasm32-wasi', '-O2', '-mexec-model=reactor', ...link, `-I${HEADER_DIR}`, '-o', wasm, src]);
  return wasm;
}

/**
 * A kernel that passes the conformance suite (bad coordinates counted in `skipped`) and runs `onFast`, C
 * statements, on a fix faster than `over` m/s: a trap, a loop for ever.
 */
export const onFastFix = (name: string, over: number, onFast: string): string =>
  onHeader(
    { name, params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] },
    `static double skipped;
static volatile int sink;
GF_EXPORT(init) int32_t init(const void *params, int32_t len) { return 0; }
GF_EXPORT(flush) int32_t flush(void *out, int32_t cap) { return 0; }
GF_EXPORT(counter) double counter(int32_t i) { return i == 0 ? skipped : 0; }
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) {
  gf_batch b = gf_columns(batch, n);
  for (int32_t i = 0; i < n; i++) {
    if (gf_bad_coordinates(b.lon[i], b.lat[i])) skipped++;
    else if (b.speed[i] > ${over}) { ${onFast} }
  }
  return 0;
}`,
  );

/** the exports a kernel without params, state or rows of its own has, for a test to add its process to */
export const PLAIN_EXPORTS = `
GF_EXPORT(init) int32_t init(const void *params, int32_t len) { return 0; }
GF_EXPORT(flush) int32_t flush(void *out, int32_t cap) { return 0; }
GF_EXPORT(counter) double counter(int32_t i) { return 0; }
`;
