import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

/**
 * An AssemblyScript kernel that aborts (an index out of range) traps and nothing more: its abort used to go
 * through the WASI shim's message and proc_exit, which took Node 20's node:wasi down (SIGABRT after about 30
 * aborted instances whose memory had grown, SIGSEGV through the kernel runner). Run in a process of its own,
 * since what failed was the process.
 */
const loop = `
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
const mod = new WebAssembly.Module(readFileSync('kernels/build/testing/trap-on.wasm'));
let trapped = 0;
for (let i = 0; i < 300; i++) {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 1024 });
  const wasi = new WASI({ version: 'preview1', args: [], env: {}, preopens: {}, returnOnExit: true });
  const inst = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: wasi.wasiImport, env: { memory } });
  wasi.initialize({ exports: { ...inst.exports, memory } });
  const e = inst.exports;
  const batch = e.alloc(40);
  new Float32Array(memory.buffer, batch + 24, 1)[0] = 13; // a speed the kernel aborts on
  const out = e.alloc(4 << 20); // memory grown before the abort
  try { e.process(batch, 1, out, 4096); } catch { trapped++; }
}
console.log('trapped', trapped);
`;

it('an aborting AssemblyScript kernel traps, 300 instances in a row, and the process lives on', () => {
  const r = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', loop], { encoding: 'utf8', timeout: 120_000 });
  expect(r.signal).toBeNull();
  expect(r.stdout.trim()).toBe('trapped 300');
  expect(r.status).toBe(0);
});
