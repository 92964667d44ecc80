import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exampleKernel, type ExampleName } from '../examples/kernels/build.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { checkConformance, syntheticFixes, threeDevices } from './conformance.ts';
import { kernelFiles } from './create-kernel.ts';
import { cKernel, onHeader } from '../testing/c-kernel.ts';

const SEATTLE = threeDevices(parseTrace(readFileSync('../shared/data/traces/seattle-newson-krumm-gps.txt', 'utf8')).records.slice(0, 3000));
const KUBICKA = threeDevices(parseTrace(readFileSync('../shared/data/mapmatch-kubicka/00000000.track', 'utf8'), 'kubicka').records);
const FENCES = '../shared/data/fences/seattle-neighborhoods.geojson';
// the real traces have no speeds: for kernels that read them (or need stops), three vehicles driving circles
// at 8, 14 and 20 m/s, with a stop of three minutes each
const CIRCLES = syntheticFixes();

/** every kernel of this repository, with params and fixes it has rows for, and how its state moves (none: it has none) */
const KERNELS: [name: string, kernel: string | ExampleName, params: Record<string, unknown>, fixes: typeof SEATTLE, state: RegExp | 'whole' | 'none'][] = [
  ['geofence', 'geofence', { fences: FENCES, detect: ['enter', 'exit', 'cross', 'dwell'], dwell: 60 }, SEATTLE, /^2 devices moved/],
  ['geofence, containment', 'geofence', { fences: FENCES, contains: true }, SEATTLE, /^0 devices moved/],
  ['hotspot', 'hotspot', { cellSize: 200, band: 400, window: 600, slide: 60, minCount: 2 }, SEATTLE, 'whole'],
  ['mapmatch', 'mapmatch', { network: '../shared/data/mapmatch-kubicka' }, KUBICKA, /^2 devices moved/],
  ['roam', 'roam', { distance: 300 }, CIRCLES, 'whole'],
  ['JSON lines (AssemblyScript)', 'kernels/build/testing/speed-limit.wasm', { limit: 10 }, CIRCLES, 'none'],
  ['speeding (C)', 'speeding', { limit: 40, unit: 'km/h' }, CIRCLES, 'none'],
  ['inside (C)', 'inside', { fences: FENCES }, SEATTLE, 'none'],
  ['stops (Rust)', 'stops', { radius: 40, minDuration: 30 }, CIRCLES, /^2 devices moved/],
];
const EXAMPLES = new Set<string>(['speeding', 'inside', 'stops']);

describe('the ABI conformance suite', () => {
  it.for(KERNELS)('passes for %s', async ([, kernel, params, fixes, state], ctx) => {
    const path = EXAMPLES.has(kernel) ? exampleKernel(ctx, kernel as ExampleName) : kernel;
    const results = checkConformance({ ...(await kernelFiles(path, params)), fixes });
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(8);
    // the checks saw rows, so they held of something
    expect(results.find((r) => r.check.includes('decodes'))?.detail).toMatch(/^[1-9][\d,]* rows/);
    // how its state moves with a partition: per device (and the check saw devices move), whole only, or not at all
    const moves = results.find((r) => r.check.startsWith('devices move') || r.check.startsWith('state moves whole only'));
    if (state === 'none') expect(moves).toBeUndefined();
    else if (state === 'whole') expect(moves?.detail).toBe('state moves whole only');
    else expect(moves?.detail).toMatch(state);
  });
});

describe('a kernel that breaks the ABI', () => {
  it('is told when it keeps state across batches without snapshot and restore', async (ctx) => {
    // a row for each device's first fix: it remembers every device it has seen, and cannot hand that on
    const schema = { name: 'first-seen', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
    const wasm = cKernel(ctx, onHeader(schema, `
static uint8_t seen[1 << 16];
static double skipped, lost;
GF_EXPORT(init) int32_t init(const void *params, int32_t len) { return 0; }
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) {
  gf_batch b = gf_columns(batch, n);
  uint32_t *row = GF_COLUMN(uint32_t, out, cap, 0);
  int32_t rows = 0;
  for (int32_t i = 0; i < n; i++) {
    if (gf_bad_coordinates(b.lon[i], b.lat[i])) { skipped++; continue; }
    if (b.device[i] >= sizeof seen || seen[b.device[i]]) continue;
    if (rows == cap) { lost++; continue; }
    seen[b.device[i]] = 1;
    row[rows++] = (uint32_t)i;
  }
  return rows;
}
GF_EXPORT(flush) int32_t flush(void *out, int32_t cap) { return 0; }
GF_EXPORT(counter) double counter(int32_t i) { return i == 0 ? skipped : lost; }`));
    const results = checkConformance({ ...(await kernelFiles(wasm, {})), fixes: CIRCLES });
    expect(results.filter((r) => !r.ok)).toEqual([{ check: 'without snapshot and restore, it keeps no state: a batch gives the same rows after others as first', ok: false, detail: expect.stringContaining('exports no snapshot and restore, so a trap forgets that state') }]);
  });

  it('is told which check it fails, and why', async () => {
    // sandbox-probe skips nothing and counts nothing: a bad fix goes by uncounted
    const results = checkConformance({ ...(await kernelFiles('kernels/build/testing/sandbox-probe.wasm', {})), fixes: CIRCLES });
    expect(results.filter((r) => !r.ok)).toEqual([{ check: 'bad fixes (NaN, out of range) do not trap and are counted in skipped', ok: false, detail: 'skipped counted 0 of 4 bad fixes' }]);
  });
});
