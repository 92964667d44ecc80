// mapmatch: hidden-Markov map matching (Newson & Krumm, with headings, speeds and U-turns), online: each
// fix is committed once the best path through it has converged (docs/map-matching.md).
//
// The kernel entry: the ABI's exports, per-device state, and the stream's clock. The model lives in
// mapmatch/: graph access (graph.ts), candidates (candidates.ts), emission and transition (model.ts), route
// search (route.ts), the per-device lattice and its commit rule (lattice.ts), output rows and traversals
// (traversals.ts), params (params.ts).
import { badCoordinates, colAccuracy, colDevice, colHeading, colLat, colLon, colSpeed, colT, fail } from './abi';
import { resetCandidates } from './mapmatch/candidates';
import { edgeCount, loadGraph, nodeCount } from './mapmatch/graph';
import { addFix, breaks, commitOlderThan, Device, flushDevice, resetBreaks } from './mapmatch/lattice';
import { idleMs, lagMs, maxGapMs, readParams } from './mapmatch/params';
import { resetRoutes, settledCount } from './mapmatch/route';
import { out, resetPaths } from './mapmatch/traversals';
export { abi_version, alloc, error_len, error_ptr, free } from './abi';

const devices = new Map<u32, Device>();
let skipped: u32 = 0;
let outOfOrder: u32 = 0;
/** the stream's clock: the latest fix time seen */
let now: f64 = -Infinity;
let lastSweep: f64 = -Infinity;

/** Takes the graph file's bytes; the kernel keeps reading them in place. */
export function load_data(ptr: usize, size: i32): i32 {
  const status = loadGraph(ptr, size);
  if (status != 0) return status;
  resetRoutes(nodeCount, edgeCount);
  resetCandidates(edgeCount);
  resetPaths();
  devices.clear();
  return 0;
}

export function init(ptr: usize, size: i32): i32 {
  if (edgeCount == 0) return fail('no road graph: call load_data first');
  const status = readParams(String.UTF8.decodeUnsafe(ptr, size));
  if (status != 0) return status;
  devices.clear();
  skipped = outOfOrder = 0;
  resetBreaks();
  out.lost = 0;
  now = -Infinity;
  lastSweep = -Infinity;
  return 0;
}

/** Map-matches a batch; returns how many rows (matched fixes, unmatched fixes, edge traversals) it wrote. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  if (edgeCount == 0) return fail('no road graph: call load_data first');
  const tCol = colT(batch, n);
  const lonCol = colLon(batch, n);
  const latCol = colLat(batch, n);
  const speedCol = colSpeed(batch, n);
  const headingCol = colHeading(batch, n);
  const accuracyCol = colAccuracy(batch, n);
  const devCol = colDevice(batch, n);
  for (let i = 0; i < n; i++) {
    const t = load<f64>(tCol + (<usize>i << 3));
    const lon = load<f64>(lonCol + (<usize>i << 3));
    const lat = load<f64>(latCol + (<usize>i << 3));
    if (badCoordinates(lon, lat) || !isFinite(t)) {
      skipped++;
      continue;
    }
    const id = load<u32>(devCol + (<usize>i << 2));
    let dev: Device;
    if (devices.has(id)) dev = devices.get(id);
    else devices.set(id, (dev = new Device()));
    if (t <= dev.lastT) {
      outOfOrder++;
      continue;
    }
    const gap = t - dev.lastT > maxGapMs;
    dev.lastT = t;
    if (t > now) now = t;
    const at4 = <usize>i << 2;
    addFix(dev, id, t, lon, lat, <f64>load<f32>(speedCol + at4), <f64>load<f32>(headingCol + at4), <f64>load<f32>(accuracyCol + at4), gap);
  }
  sweep();
  return out.n;
}

/** Commits fixes older than `lagSeconds`, and forgets devices silent for `idle` seconds. */
function sweep(): void {
  if (lagMs == 0 && now - lastSweep < idleMs / 4) return;
  lastSweep = now;
  const ids = devices.keys();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const dev = devices.get(id);
    if (now - dev.lastT > idleMs) {
      flushDevice(dev, id);
      devices.delete(id);
      continue;
    }
    if (lagMs > 0) commitOlderThan(dev, id, now, lagMs);
  }
}

/**
 * End of input: commits every device's pending fixes and closes its last edge. Resumable: it stops before a
 * device whose rows might not fit, so the host calls it until it returns 0.
 */
export function flush(outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  const ids = devices.keys();
  for (let i = 0; i < ids.length; i++) {
    const dev = devices.get(ids[i]);
    if (out.n > 0 && out.n + (dev.count + 1) * 64 > cap) break;
    flushDevice(dev, ids[i]);
    devices.delete(ids[i]);
  }
  return out.n;
}

export function skipped_count(): u32 { return skipped; }
export function out_of_order_count(): u32 { return outOfOrder; }
export function lost_event_count(): u32 { return out.lost; }
export function device_count(): i32 { return devices.size; }
export function settled_count(): f64 { return <f64>settledCount; }
export function break_count(): u32 { return breaks; }
