// A test kernel with a bug on one kind of input: it traps (an out-of-bounds access, as a real bug would)
// on a fix whose speed is exactly 13 m/s, and otherwise writes a JSON line per fix. Tests use it to show a
// trap costs only the fixes that cause it. Built to kernels/build/testing/.
import { colSpeed, declareCounter, declareKernel, outputJsonLines, writeLine } from '../abi';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from '../abi';

declareKernel('trap-on', 'a JSON line per fix; traps on a fix at exactly 13 m/s');
outputJsonLines();
declareCounter('skipped');
declareCounter('lostRows');

export function init(ptr: usize, len: i32): i32 {
  return 0;
}

const rows = new StaticArray<i32>(1);

export function process(batch: usize, n: i32, out: usize, cap: i32): i32 {
  const speeds = colSpeed(batch, n);
  let written: i32 = 0;
  for (let i = 0; i < n; i++) {
    const s = load<f32>(speeds + (<usize>i << 2));
    if (s == 13) rows[i + 1000] = 1; // the bug: past the end of the array, which traps
    written = writeLine(out, written, cap, '{"kind":"seen","row":' + i.toString() + '}\n');
    if (written < 0) return -1;
  }
  return written;
}

export function flush(out: usize, cap: i32): i32 {
  return 0;
}

export function counter(i: i32): f64 {
  return i == 0 || i == 1 ? 0 : NaN;
}
