// A test kernel, not a product: it tries to reach the host's files through WASI, so a test can show it
// cannot. Built to kernels/build/testing/, never offered as a built-in.
import { declareCounter, declareKernel, outputJsonLines } from '../abi';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from '../abi';

declareKernel('sandbox-probe', 'tries to open host files');
outputJsonLines();
declareCounter('skipped');
declareCounter('lostRows');

// @ts-ignore: decorator
@external('wasi_snapshot_preview1', 'path_open')
declare function path_open(fd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u16, rightsBase: u64, rightsInheriting: u64, fdflags: u16, opened: usize): u16;

// @ts-ignore: decorator
@external('wasi_snapshot_preview1', 'fd_prestat_get')
declare function fd_prestat_get(fd: u32, buf: usize): u16;

const FD_READ: u64 = 2;

export function init(ptr: usize, len: i32): i32 {
  return 0;
}

export function process(batch: usize, n: i32, out: usize, cap: i32): i32 {
  return 0;
}

export function flush(out: usize, cap: i32): i32 {
  return 0;
}

export function counter(i: i32): f64 {
  return 0;
}

/** Tries to open `path` under every descriptor a preopened directory could have; 0 if one succeeded, else the last errno. */
export function probe_open(path: usize, len: i32): i32 {
  const opened = heap.alloc(4);
  let errno: i32 = 0;
  for (let fd: u32 = 3; fd < 16; fd++) {
    errno = path_open(fd, 0, path, <usize>len, 0, FD_READ, FD_READ, 0, opened);
    if (errno == 0) return 0;
  }
  return errno;
}

/** How many descriptors are preopened directories. */
export function probe_preopens(): i32 {
  const buf = heap.alloc(8);
  let n = 0;
  for (let fd: u32 = 3; fd < 16; fd++) if (fd_prestat_get(fd, buf) == 0) n++;
  return n;
}
