// An example of a custom kernel in the JSON-lines output format (docs/kernel-abi.md): one line per fix
// faster than `limit` m/s. Used by tests; built to kernels/build/testing/.
import { badCoordinates, colLat, colLon, colSpeed, declareCounter, declareKernel, fail, outputJsonLines, param, paramF64, takeParams, writeLine } from '../abi';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from '../abi';

declareKernel('speeding', 'a JSON line per fix faster than the limit');
const P_LIMIT = param('limit', 'number', 'm/s', '"default":30,"min":0,"exclusiveMin":true');
outputJsonLines();
declareCounter('skipped');
declareCounter('lostRows');

let limit: f64 = 30;
let skipped: u32 = 0;
let lost: u32 = 0;

export function init(ptr: usize, len: i32): i32 {
  const status = takeParams(ptr, len);
  if (status != 0) return status;
  limit = paramF64(P_LIMIT);
  return limit > 0 ? 0 : fail('limit must be a positive speed in m/s');
}

export function process(batch: usize, n: i32, out: usize, cap: i32): i32 {
  const speeds = colSpeed(batch, n);
  let written: i32 = 0;
  for (let i = 0; i < n; i++) {
    if (badCoordinates(load<f64>(colLon(batch, n) + (<usize>i << 3)), load<f64>(colLat(batch, n) + (<usize>i << 3)))) {
      skipped++;
      continue;
    }
    const s = <f64>load<f32>(speeds + (<usize>i << 2));
    if (!(s > limit)) continue;
    const next = writeLine(out, written, cap, '{"kind":"speeding","row":' + i.toString() + ',"speed":' + s.toString() + ',"limit":' + limit.toString() + '}\n');
    if (next < 0) lost++;
    else written = next;
  }
  return written;
}

export function flush(out: usize, cap: i32): i32 {
  return 0;
}

export function counter(i: i32): f64 {
  return i == 0 ? skipped : i == 1 ? lost : NaN;
}
