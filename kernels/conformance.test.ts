import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleKernel, type ExampleName } from '../examples/kernels/build.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { checkConformance, syntheticFixes, threeDevices } from './conformance.ts';
import { kernelFiles } from './create-kernel.ts';

const SEATTLE = threeDevices(parseTrace(readFileSync('../shared/data/traces/seattle-newson-krumm-gps.txt', 'utf8')).records.slice(0, 3000));
const KUBICKA = parseTrace(readFileSync('../shared/data/mapmatch-kubicka/00000000.track', 'utf8'), 'kubicka').records;
const FENCES = '../shared/data/fences/seattle-neighborhoods.geojson';
// the real traces have no speeds: for kernels that read them (or need stops), three vehicles driving circles
// at 8, 14 and 20 m/s, with a stop of three minutes each
const CIRCLES = syntheticFixes();

/** every kernel of this repository, with params and fixes it has rows for */
const KERNELS: [name: string, kernel: string | ExampleName, params: Record<string, unknown>, fixes: typeof SEATTLE][] = [
  ['geofence', 'geofence', { fences: FENCES, detect: ['enter', 'exit', 'cross', 'dwell'], dwell: 60 }, SEATTLE],
  ['geofence, containment', 'geofence', { fences: FENCES, contains: true }, SEATTLE],
  ['hotspot', 'hotspot', { cellSize: 200, band: 400, window: 600, slide: 60, minCount: 2 }, SEATTLE],
  ['mapmatch', 'mapmatch', { network: '../shared/data/mapmatch-kubicka' }, KUBICKA],
  ['JSON lines (AssemblyScript)', 'kernels/build/testing/speed-limit.wasm', { limit: 10 }, CIRCLES],
  ['speeding (C)', 'speeding', { limit: 40, unit: 'km/h' }, CIRCLES],
  ['inside (C)', 'inside', { fences: FENCES }, SEATTLE],
  ['stops (Rust)', 'stops', { radius: 40, minDuration: 30 }, CIRCLES],
];
const EXAMPLES = new Set<string>(['speeding', 'inside', 'stops']);

describe('the ABI conformance suite', () => {
  it.for(KERNELS)('passes for %s', async ([, kernel, params, fixes], ctx) => {
    const path = EXAMPLES.has(kernel) ? exampleKernel(ctx, kernel as ExampleName) : kernel;
    const results = checkConformance({ ...(await kernelFiles(path, params)), fixes });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(8);
    // the checks saw rows, so they held of something
    expect(results.find((r) => r.check.includes('decodes'))?.detail).toMatch(/^[1-9][\d,]* rows/);
  });
});

describe('a kernel that breaks the ABI', () => {
  it('is told which check it fails, and why', async () => {
    // sandbox-probe skips nothing and counts nothing: a bad fix goes by uncounted
    const results = checkConformance({ ...(await kernelFiles('kernels/build/testing/sandbox-probe.wasm', {})), fixes: CIRCLES });
    expect(results.filter((r) => !r.ok)).toEqual([{ check: 'bad fixes (NaN, out of range) do not trap and are counted in skipped', ok: false, detail: 'skipped counted 0 of 4 bad fixes' }]);
  });
});
