import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../../codecs/gps-batch.ts';
import { cKernel, KERNEL_LINK, onHeader, PLAIN_EXPORTS } from '../../testing/c-kernel.ts';
import { createKernel } from '../create-kernel.ts';
import { compileKernel, compileKernelSync } from './compile.ts';

/**
 * A kernel built wrong is refused when it loads with what to change, not with what broke downstream of the
 * mistake (`kernel schema is not JSON`, `memory import 0 is smaller than initial 32768`, `Invalid typed array
 * length`): each case is a tiny C kernel compiled here the way the README builds one, but for that mistake.
 */

const SCHEMA = { name: 'tiny', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
const TINY = onHeader(SCHEMA, `${PLAIN_EXPORTS}
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) { return 0; }`);

describe('a kernel built wrong says what to change when it loads', () => {
  it('loads when built right', async (ctx) => {
    const k = await createKernel(cKernel(ctx, TINY));
    expect(await k.process(batchFromRecords([{ deviceId: 'v', t: 0, lon: 0, lat: 0 }]))).toEqual([]);
  });

  it('linked without --import-memory', async (ctx) => {
    await expect(createKernel(cKernel(ctx, TINY, []))).rejects.toThrow(
      'kernel does not import its memory (env.memory), so the host can neither give it one nor cap it: link it with --import-memory (clang -Wl,--import-memory, AssemblyScript --importMemory, rustc -C link-arg=--import-memory)',
    );
  });

  it('asking for 2 GiB of memory to start with', async (ctx) => {
    await expect(createKernel(cKernel(ctx, TINY, [...KERNEL_LINK, '-Wl,--initial-memory=2147483648']))).rejects.toThrow(
      'kernel asks for 32768 pages (2,048 MiB) of memory to start with, over the host’s cap of 1024 pages (64 MiB): link it with less (clang -Wl,--initial-memory=<bytes>, a smaller stack or static data), or raise the cap (maxPages)',
    );
  });

  it('whose schema_len is not its schema’s length', async (ctx) => {
    // the ABI's own exports by hand (geoflux_kernel.h gets schema_len right), with the one mistake
    const lying = `#include <stdint.h>
#define GF_EXPORT(name) __attribute__((export_name(#name)))
static const char schema[] = ${JSON.stringify(JSON.stringify(SCHEMA))};
static char heap[1 << 16];
static int32_t top;
GF_EXPORT(schema_len) int32_t schema_len(void) { return 1 << 30; }
GF_EXPORT(schema_ptr) const char *schema_ptr(void) { return schema; }
GF_EXPORT(abi_version) int32_t abi_version(void) { return 2; }
GF_EXPORT(alloc) void *alloc(int32_t n) { void *p = heap + top; top += (n + 7) & ~7; return p; }
GF_EXPORT(dealloc) void dealloc(void *p) {}
GF_EXPORT(error_ptr) const char *error_ptr(void) { return ""; }
GF_EXPORT(error_len) int32_t error_len(void) { return 0; }
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) { return 0; }
${PLAIN_EXPORTS}`;
    await expect(createKernel(cKernel(ctx, lying))).rejects.toThrow(
      /^kernel schema_ptr\(\) \d+ and schema_len\(\) 1073741824 point past its memory \(\d+ bytes\): schema_len must return the length in bytes of the schema at schema_ptr$/,
    );
  });

  it('exporting some of the device moves but not all, or without snapshot and restore', async (ctx) => {
    const some = `${TINY}
GF_EXPORT(snapshot) int32_t snapshot(void *p, int32_t cap) { return 0; }
GF_EXPORT(restore) int32_t restore(const void *p, int32_t len) { return 0; }
GF_EXPORT(export_devices) int32_t export_devices(const void *ids, int32_t n, void *p, int32_t cap) { return 0; }`;
    await expect(createKernel(cKernel(ctx, some))).rejects.toThrow('kernel exports export_devices but not import_devices, drop_devices: a kernel that moves devices exports all three');
    const stateless = `${TINY}
GF_EXPORT(export_devices) int32_t export_devices(const void *ids, int32_t n, void *p, int32_t cap) { return 0; }
GF_EXPORT(import_devices) int32_t import_devices(const void *p, int32_t len) { return 0; }
GF_EXPORT(drop_devices) int32_t drop_devices(const void *ids, int32_t n) { return 0; }`;
    await expect(createKernel(cKernel(ctx, stateless))).rejects.toThrow('kernel exports export_devices but not snapshot and restore: a kernel that moves devices has state, and exports both');
  });
});

describe('a file that is no WebAssembly module', () => {
  const file = (name: string, bytes: Uint8Array) => {
    const path = join(mkdtempSync(join(tmpdir(), 'geoflux-wasm-')), name);
    writeFileSync(path, bytes);
    return path;
  };

  it('is refused naming the file and what is wrong, not with V8\'s words alone', async () => {
    const empty = file('empty.wasm', new Uint8Array());
    await expect(createKernel(empty)).rejects.toThrow(`${empty}: not a WebAssembly module (0 bytes)`);
    const text = file('page.wasm', new TextEncoder().encode('<html>Not Found</html>'));
    await expect(createKernel(text)).rejects.toThrow(`${text}: not a WebAssembly module (bad magic: it starts 3c 68 74 6d, where a module starts 00 61 73 6d)`);
    const v2 = file('v2.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0]));
    await expect(createKernel(v2)).rejects.toThrow(`${v2}: not a valid WebAssembly module: expected version 01 00 00 00, found 02 00 00 00 @+4`);
  });

  it('is refused alike when compiled from bytes, at once or synchronously', async () => {
    await expect(compileKernel(new Uint8Array([1, 2]))).rejects.toThrow('the kernel: not a WebAssembly module (bad magic: it starts 01 02, where a module starts 00 61 73 6d)');
    expect(() => compileKernelSync(new Uint8Array(), 'x.wasm')).toThrow('x.wasm: not a WebAssembly module (0 bytes)');
  });
});
