import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleKernel } from '../examples/kernels/build.ts';
import { BUILTIN_KERNELS } from '../kernels/host/builtin-wasm.ts';
import { cKernel, onHeader, PLAIN_EXPORTS } from '../testing/c-kernel.ts';

/** `geoflux kernel` as a kernel author runs it: a real process, on dist/ */
function run(args: string[], stdin?: string, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [resolve('bin/geoflux.js'), 'kernel', ...args], { cwd, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
}

const lines = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

// two vehicles, one fix off the earth and one unreadable row
const CSV = ['deviceId,time,lon,lat,speed', 'bus,0,7.405,43.735,10', 'bus,1,7.415,43.735,16', 'van,1,7.415,95,30', 'van,2,7.416,43.735,oops', 'van,3,7.417,43.735,20', 'bus,x,7.4,43.7,1'].join('\n');

describe('geoflux kernel', () => {
  it('runs a C kernel over a trace: its rows as JSON lines, the bad rows and its counters on stderr', async (ctx) => {
    const wasm = exampleKernel(ctx, 'speeding');
    const r = await run([wasm, '--params', '{"limit": 50, "unit": "km/h"}', '-'], CSV);
    expect(r.stderr).not.toMatch(/geoflux kernel:/);
    expect(lines(r.stdout)).toEqual([
      { kind: 'speeding', deviceId: 'bus', time: '1970-01-01T00:00:01.000Z', point: [7.415, 43.735], speed: 16, over: 2.11 },
      { kind: 'speeding', deviceId: 'van', time: '1970-01-01T00:00:03.000Z', point: [7.417, 43.735], speed: 20, over: 6.11 },
    ]);
    // a latitude of 95 is read, and skipped as a fix no zipper would take, naming why
    expect(r.stderr).toContain('-: 2 bad rows skipped (line 4: lat must be a number in [-90, 90] (got 95); line 7: unreadable time or coordinates)');
    expect(r.stderr).toMatch(/^4 fixes \(csv\): 2 rows; speeding counted skipped 0, lostRows 0, fast 2 in /m);
    expect(r.code).toBe(0);
  });

  it('names the built-in kernel a misspelt name is closest to, and its --help lists every built-in kernel', async () => {
    const typo = await run(['geofenc', '-'], '');
    expect(typo.stderr).toBe(`geoflux kernel: unknown kernel "geofenc" (did you mean "geofence"?) (built-in: ${BUILTIN_KERNELS.join(', ')}; or a path to a .wasm file)\n`);
    expect(typo.code).toBe(1);
    const help = await run(['--help']);
    expect(help.stdout).toContain(`geoflux kernel <file.wasm | ${BUILTIN_KERNELS.join(' | ')}>`);
    expect(BUILTIN_KERNELS).toContain('roam');
  });

  it('names a misspelt param, with a did-you-mean, and a wrong type', async (ctx) => {
    const wasm = exampleKernel(ctx, 'speeding');
    const typo = await run([wasm, '--params', '{"limt": 50}', '-'], CSV);
    expect(typo.stderr).toBe(`geoflux kernel: ${wasm}: kernel speeding: params.limt: unknown param (did you mean "limit"?)\n`);
    expect(typo.code).toBe(1);
    const type = await run([wasm, '--params', '{"limit": "50", "unit": "kph"}', '-'], CSV);
    expect(type.stderr).toBe(`geoflux kernel: ${wasm}: kernel speeding: params.limit: expected a number, got string "50"; params.unit: expected one of "m/s", "km/h", "mph", got string "kph" (did you mean "mph"?)\n`);
  });

  it('names the file of a kernel that does not load, as typed, once: running it, describing it, checking it', async (ctx) => {
    // linked without --import-memory: a module V8 compiles, that the host refuses to instantiate
    const schema = { name: 'own-memory', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
    const wasm = cKernel(ctx, onHeader(schema, `${PLAIN_EXPORTS}
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) { return 0; }`), []);
    const why = 'kernel does not import its memory (env.memory), so the host can neither give it one nor cap it: link it with --import-memory (clang -Wl,--import-memory, AssemblyScript --importMemory, rustc -C link-arg=--import-memory)';
    // relative, as a user types it in the kernel's directory
    const cwd = dirname(wasm);
    for (const args of [['./k.wasm', '-'], ['./k.wasm', '--describe'], ['./k.wasm', '--check']]) {
      const r = await run(args, '', cwd);
      expect(r.stderr).toBe(`geoflux kernel: ./k.wasm: ${why}\n`);
      expect(r.code).toBe(1);
    }
    // a reason that names the file already is not prefixed again
    const missing = await run(['./gone.wasm', '-'], '', cwd);
    expect(missing.stderr).toBe(`geoflux kernel: kernel "./gone.wasm" not found at ${join(cwd, 'gone.wasm')}\n`);
  });

  it('says of a kernel whose state is not per device that it moves whole only', async () => {
    const d = await run(['hotspot', '--describe']);
    expect(d.stdout).toContain('state: snapshot and restore (a trap restores it); moves whole only (no export_devices)');
    const c = await run(['hotspot', '--check', '--params', '{"minCount": 2, "window": 120, "slide": 60}']);
    expect(c.stdout).toContain('✓ state moves whole only: no export_devices, import_devices and drop_devices, so a partition cannot take its devices along (docs/kernel-abi.md, Devices moving): state moves whole only\n');
    expect(c.stdout).toMatch(/all 10 checks pass\n$/);
  });

  it('runs a built-in the same way, its rows decoded by the fields it declares', async () => {
    const r = await run(['geofence', '--params', '{"fences": "workflows/testdata/good/square.geojson", "detect": ["enter", "exit"], "debounce": false}', '-'], CSV);
    expect(lines(r.stdout).map((e) => `${e.deviceId} ${e.detect} ${(e.fence as { id: string }).id}`)).toEqual(['bus enter yard', 'van enter yard']);
    expect(r.code).toBe(0);
  });

  it('describes what a kernel declares, and runs the conformance suite on it', async (ctx) => {
    const wasm = exampleKernel(ctx, 'stops');
    const d = await run([wasm, '--describe']);
    expect(d.stdout).toMatch(/^stops: where vehicles stop, and when they move on\n\nparams:\n {2}radius +number +default 30 +> 0 +metres a stopped vehicle stays within\n/);
    expect(d.stdout).toContain('state: snapshot and restore (a trap restores it); devices move one by one (export_devices, import_devices, drop_devices)');
    const c = await run([wasm, '--check', '--params', '{"minDuration": 60}']);
    expect(c.stdout).toMatch(/^✓ imports env.memory and WASI only/);
    expect(c.stdout).toContain('✓ an instance restored from a snapshot goes on exactly as the one it was taken from');
    expect(c.stdout).toMatch(/\n✓ devices move: .*: 2 devices moved, [\d,]+ bytes\n/);
    expect(c.stdout).toMatch(/all 10 checks pass\n$/);
    expect(c.code).toBe(0);
    // what --describe would not use is refused, not passed over: a trace, params (a typo in them undetected)
    expect(await run([wasm, '--describe', 'trace.csv'])).toEqual({ code: 2, stdout: '', stderr: 'geoflux kernel: unexpected argument "trace.csv": kernel --describe takes only the kernel\n' });
    const params = await run([wasm, '--describe', '--params', '{"radus": 30}']);
    expect(params).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^geoflux kernel: --describe prints what the kernel declares, whatever the params: --params goes with a run over a trace, or with --check/) });
    const described = await run(['kernels/build/testing/sandbox-probe.wasm', '--describe']);
    expect(described.stdout).toContain('state: no snapshot and restore: any state it keeps across batches, a trap forgets (--check tells whether it keeps some)');
    const probe = await run(['kernels/build/testing/sandbox-probe.wasm', '--check']);
    expect(probe.stdout).toContain('✗ bad fixes (NaN, out of range) do not trap and are counted in skipped\n    skipped counted 0 of 4 bad fixes');
    expect(probe.stderr).toBe('geoflux kernel: 1 of 9 checks failed (docs/kernel-abi.md, Conformance)\n');
    expect(probe.code).toBe(1);
  });

  it('drops only the row a kernel traps on, as serve does: the rows around it come out, the drop is said at the end, exit 0', async () => {
    // trap-on traps on a fix at exactly 13 m/s
    const fixes = ['deviceId,time,lon,lat,speed', 'a,0,7.41,43.73,10', 'b,1,7.41,43.73,11', 'c,2,7.41,43.73,13', 'd,3,7.41,43.73,12', 'e,4,7.41,43.73,14'].join('\n');
    const r = await run(['kernels/build/testing/trap-on.wasm', '-'], fixes);
    expect(lines(r.stdout).map((l) => l.deviceId)).toEqual(['a', 'b', 'd', 'e']);
    expect(r.stderr).toMatch(/^1 rows dropped: the kernel trapped on them \(the first: "c" at 1970-01-01T00:00:02\.000Z: kernel trapped: /m);
    expect(r.code).toBe(0);
    const all = await run(['kernels/build/testing/trap-on.wasm', '-'], ['deviceId,time,lon,lat,speed', 'a,0,7.41,43.73,13', 'b,1,7.41,43.73,13'].join('\n'));
    expect(all.stdout).toBe('');
    expect(all.stderr).toMatch(/^geoflux kernel: every row trapped the kernel: 2 rows dropped: the kernel trapped on them \(the first: "a" at 1970-01-01T00:00:00\.000Z: /m);
    expect(all.code).toBe(1);
  });

  it('stops a kernel that loops, says which call did not return, and exits 1: over a trace, and checking it', async (ctx) => {
    const schema = { name: 'loops', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
    const wasm = cKernel(ctx, onHeader(schema, `${PLAIN_EXPORTS}
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) { volatile int32_t spin = n; while (spin) {} return 0; }`));
    const trace = await run([wasm, '--timeout', '300', '-'], CSV);
    expect(trace.stderr).toMatch(/^geoflux kernel: kernel \S+k\.wasm: a call did not return within 300 ms; its thread was stopped\n$/m);
    expect(trace.code).toBe(1);
    const check = await run([wasm, '--check', '--timeout', '3000']);
    expect(check.stderr).toMatch(/^geoflux kernel: \S+k\.wasm: a call did not return within 3000 ms; its thread was stopped\n$/m);
    expect(check.code).toBe(1);
  });
});
