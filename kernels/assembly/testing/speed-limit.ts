// An example of a custom kernel in the JSON-lines output format (docs/kernel-abi.md): one line per fix
// faster than `limit` m/s. Used by tests and as a template; built to kernels/build/testing/.
import { colSpeed, fail, jsonNumber } from '../abi';
export { abi_version, alloc, error_len, error_ptr, free } from '../abi';

let limit: f64 = 30;

/** 1: process() writes newline-delimited JSON into the output buffer and returns its length in bytes */
export function output_format(): i32 {
  return 1;
}

export function init(ptr: usize, len: i32): i32 {
  limit = jsonNumber(String.UTF8.decodeUnsafe(ptr, len), 'limit', 30);
  return limit > 0 ? 0 : fail('limit must be a positive speed in m/s');
}

export function process(batch: usize, n: i32, out: usize, cap: i32): i32 {
  const speeds = colSpeed(batch, n);
  let written: i32 = 0;
  for (let i = 0; i < n; i++) {
    const s = <f64>load<f32>(speeds + (<usize>i << 2));
    if (!(s > limit)) continue;
    const line = String.UTF8.encode('{"kind":"speeding","row":' + i.toString() + ',"speed":' + s.toString() + ',"limit":' + limit.toString() + '}\n');
    if (written + line.byteLength > cap) return fail('output buffer too small');
    memory.copy(out + <usize>written, changetype<usize>(line), line.byteLength);
    written += line.byteLength;
  }
  return written;
}
