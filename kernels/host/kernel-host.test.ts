import { describe, expect, it, vi } from 'vitest';
import { batchFromRecords } from '../../codecs/gps-batch.ts';
import { createGeofence, createHotspot } from '../create-kernel.ts';
import { KernelError, KernelTrap } from './kernel-error.ts';
import { KernelInstance } from './kernel-instance.ts';
import { loadKernelModule } from './load-module.ts';
import { loadWasmer, wasiNamed } from './node-wasi.ts';

const EBADF = 8;
const WASIS = ['node', 'wasmer'] as const;
await loadWasmer();

describe.each(WASIS)('kernel host with %s WASI', (wasi) => {
  it('runs a kernel to the same answers', async () => {
    const k = await createHotspot({}, { wasi });
    expect(k.giPoints([[10, 10], [20, 10], [40, 10], [15, 20], [30, 20], [30, 30]], [2, 3, 3.2, 5, 8, 7], 15, true)[5]).toBeCloseTo(2.02424331, 6);
  });

  it('cannot open a host file', async () => {
    const { module } = await loadKernelModule('kernels/build/testing/sandbox-probe.wasm');
    const k = KernelInstance.create(module, { wasi: await wasiNamed(wasi) });
    const x = k.exports as unknown as { probe_open(p: number, n: number): number; probe_preopens(): number };
    // node:wasi: no preopened directory at all; @wasmer/wasi: only its own empty in-memory file system
    expect(x.probe_preopens()).toBe(wasi === 'node' ? 0 : 2);
    for (const path of ['/etc/passwd', 'package.json', '../shared/data/README.md']) {
      const bytes = Buffer.from(path);
      const ptr = k.exports.alloc(bytes.length);
      k.bytes(ptr, bytes.length).set(bytes);
      const errno = x.probe_open(ptr, bytes.length);
      expect(errno).not.toBe(0); // 0 would mean a descriptor was opened
      if (wasi === 'node') expect(errno).toBe(EBADF);
    }
  });

  it('caps an instance’s memory: running past it traps that instance only', async () => {
    await expect(createHotspot({ gridWidth: 2048, gridHeight: 2048 }, { wasi, maxPages: 64 })).rejects.toThrow(KernelTrap);
    const fine = await createHotspot({ gridWidth: 64, gridHeight: 64 }, { wasi, maxPages: 64 });
    expect(fine.stats().skipped).toBe(0);
  });
});

describe('a trapped kernel', () => {
  it('is replaced by its warm spare; the batch that trapped goes to the caller', async () => {
    const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
    const fences = { type: 'Feature', properties: { name: 'sq' }, geometry: { type: 'Polygon', coordinates: [square] } };
    const k = await createGeofence({ fences, debounce: false }, { maxPages: 80 }); // an enter at the first fix
    // per-device state for 200,000 devices does not fit in 80 pages (5 MiB), beside the 2.4 MiB output buffer
    const many = batchFromRecords(Array.from({ length: 200_000 }, (_, i) => ({ deviceId: `d${i}`, t: 0, lon: 0.5, lat: 0.5 })));
    expect(() => k.process(many)).toThrow(KernelTrap);
    expect(k.stats().replaced).toBe(1);
    const after = k.process(batchFromRecords([{ deviceId: 'x', t: 0, lon: 0.5, lat: 0.5 }]));
    expect(after.map((e) => e.detect)).toEqual(['enter']);
  });

  it('makes no spare instance until its first trap, then keeps one ready for the next', async () => {
    const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
    const fences = { type: 'Feature', properties: { name: 'sq' }, geometry: { type: 'Polygon', coordinates: [square] } };
    const k = await createGeofence({ fences, debounce: false }, { maxPages: 80 });
    const turn = () => new Promise((r) => setTimeout(r, 0));
    await turn(); // the test before's trap made its spare on this turn
    const made = vi.spyOn(KernelInstance, 'create');
    try {
      for (let t = 0; t < 3; t++) k.process(batchFromRecords([{ deviceId: 'x', t, lon: 0.5, lat: 0.5 }]));
      await turn();
      expect(made).toHaveBeenCalledTimes(0);
      const many = batchFromRecords(Array.from({ length: 200_000 }, (_, i) => ({ deviceId: `d${i}`, t: 9, lon: 0.5, lat: 0.5 })));
      expect(() => k.process(many)).toThrow(KernelTrap);
      expect(made).toHaveBeenCalledTimes(1); // the first replacement, made there and then
      await turn();
      expect(made).toHaveBeenCalledTimes(2); // the spare
      expect(() => k.process(many)).toThrow(KernelTrap);
      expect(made).toHaveBeenCalledTimes(2); // the spare took over
      await turn();
      expect(made).toHaveBeenCalledTimes(3);
    } finally {
      made.mockRestore();
    }
  });

  it('reports a kernel it cannot find, and a name that is no kernel', async () => {
    const missing = await loadKernelModule('no-such-kernel.wasm').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KernelError);
    expect((missing as Error).message).toMatch(/^kernel "no-such-kernel.wasm" not found at .*\/no-such-kernel\.wasm$/);
    await expect(loadKernelModule('kernels/build/')).rejects.toThrow(/^kernel "kernels\/build\/": .*\/kernels\/build is a directory, not a \.wasm file$/);
    await expect(loadKernelModule('geofense')).rejects.toThrow('unknown kernel "geofense" (did you mean "geofence"?) (built-in: geofence, hotspot, mapmatch, roam; or a path to a .wasm file)');
  });
});
