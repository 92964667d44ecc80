// The geofence kernel with a bug put in on purpose: a fix faster than 1,000 km/s traps it (a negative
// speed, the trigger before, is "not known" by the time a fix reaches a kernel: codecs/fix-checks.ts). Tests use it to
// show that a trap mid-stream costs only that fix (the spare restores the last snapshot and replays the
// journal), never a second "enter". Built to kernels/build/testing/, never offered as a built-in.
import { colSpeed } from '../abi';
import { process as geofence } from '../geofence';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from '../abi';
export { counter, drop_devices, export_devices, flush, import_devices, init, restore, snapshot } from '../geofence';

export function process(batch: usize, n: i32, out: usize, cap: i32): i32 {
  const speeds = colSpeed(batch, n);
  for (let i = 0; i < n; i++) if (load<f32>(speeds + (<usize>i << 2)) > 1e6) unreachable();
  return geofence(batch, n, out, cap);
}
