// A test kernel that never returns from process() when a fix has a negative speed (a kernel called directly)
// or one over 100 m/s (one that reaches it through a zipper, which takes a negative speed for unknown): a
// stand-in for a kernel with a runaway loop, so tests can show the host's time limit. Built to kernels/build/testing/.
import { colSpeed, declareCounter, declareKernel, outputJsonLines } from '../abi';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from '../abi';

declareKernel('spin', 'loops for ever on a fix with a negative speed or one over 100 m/s');
outputJsonLines();
declareCounter('skipped');
declareCounter('lostRows');

export function init(ptr: usize, len: i32): i32 {
  return 0;
}

let sink: i64 = 0;

export function process(batch: usize, n: i32, out: usize, cap: i32): i32 {
  const speeds = colSpeed(batch, n);
  for (let i = 0; i < n; i++) {
    const speed = load<f32>(speeds + (<usize>i << 2));
    if (speed < 0 || speed > 100) {
      while (sink >= 0) sink++; // runs for centuries
    }
  }
  return 0;
}

export function flush(out: usize, cap: i32): i32 {
  return 0;
}

export function counter(i: i32): f64 {
  return 0;
}
