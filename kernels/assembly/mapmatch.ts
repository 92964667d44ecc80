// mapmatch: hidden-Markov map matching (Newson & Krumm, with headings, speeds and U-turns), online: each
// fix is committed once the best path through it has converged (docs/map-matching.md).
//
// The kernel entry: the ABI's exports, per-device state, and the stream's clock. The model lives in
// mapmatch/: graph access (graph.ts), candidates (candidates.ts), emission and transition (model.ts), route
// search (route.ts), the per-device lattice and its commit rule (lattice.ts), output rows and traversals
// (traversals.ts), params (params.ts), snapshots of a device (state.ts).
import {
  badCoordinates, colAccuracy, colDevice, colHeading, colLat, colLon, colSpeed, colT, declareCounter, declareKernel, fail, paramLen, paramPtr,
  dropFrom, readDevices, StateReader, StateWriter, writeDevices, writeSnapshot,
} from './abi';
import { resetCandidates } from './mapmatch/candidates';
import { edgeCount, loadGraph, nodeCount } from './mapmatch/graph';
import { addFix, breaks, commitOlderThan, Device, flushDevice, setBreaks } from './mapmatch/lattice';
import { idleMs, lagMs, maxGapMs, P_NETWORK, readParams } from './mapmatch/params';
import { resetRoutes, setSettled, settledCount } from './mapmatch/route';
import { readDevice, writeDevice } from './mapmatch/state';
import { implausibleSpeeds, out, resetPaths, setImplausibleSpeeds } from './mapmatch/traversals';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from './abi';

declareKernel('mapmatch', 'hidden-Markov map matching (Newson & Krumm, with headings, speeds and U-turns), online with a fixed lag per device');
const C_SKIPPED = declareCounter('skipped');
const C_LOST = declareCounter('lostRows');
const C_OUT_OF_ORDER = declareCounter('outOfOrder');
const C_DEVICES = declareCounter('devices');
const C_SETTLED = declareCounter('settled');
const C_BREAKS = declareCounter('breaks');
const C_IMPLAUSIBLE = declareCounter('implausibleSpeeds');

let devices = new Map<u32, Device>();
/**
 * devices.keys(), kept until a device comes or goes (`ids = null`). Made afresh at every batch's sweep it was
 * the kernel's only garbage, 1 kB a batch at 250 devices, and the collector lets garbage grow to the size of
 * what is live before it runs: the demo's matcher went from 2.5 to 2.9 MB resident between 70 and 300 s.
 */
let ids: Array<u32> | null = null;

function deviceIds(): Array<u32> {
  let a = ids;
  if (a == null) ids = a = devices.keys();
  return a;
}
let skipped: u32 = 0;
let outOfOrder: u32 = 0;
/** the stream's clock: the latest fix time seen */
let now: f64 = -Infinity;
let lastSweep: f64 = -Infinity;

export function init(ptr: usize, size: i32): i32 {
  let status = readParams(ptr, size);
  // the graph file's bytes, read in place for the instance's life
  if (status == 0) status = loadGraph(paramPtr(P_NETWORK), paramLen(P_NETWORK));
  if (status != 0) return status;
  resetRoutes(nodeCount, edgeCount);
  resetCandidates(edgeCount);
  resetPaths();
  devices.clear();
  ids = null;
  skipped = outOfOrder = 0;
  setBreaks(0);
  setImplausibleSpeeds(0);
  out.lost = 0;
  now = -Infinity;
  lastSweep = -Infinity;
  return 0;
}

/** Map-matches a batch; returns how many rows (matched fixes, unmatched fixes, edge traversals) it wrote. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  if (edgeCount == 0) return fail('no road graph: init has not succeeded');
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
    else {
      devices.set(id, (dev = new Device()));
      ids = null;
    }
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
  const seen = deviceIds();
  for (let i = 0; i < seen.length; i++) {
    const id = seen[i];
    const dev = devices.get(id);
    if (now - dev.lastT > idleMs) {
      flushDevice(dev, id);
      devices.delete(id);
      ids = null;
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
  const held = deviceIds();
  for (let i = 0; i < held.length; i++) {
    const dev = devices.get(held[i]);
    if (out.n > 0 && out.n + (dev.count + 1) * 64 > cap) break;
    flushDevice(dev, held[i]);
    devices.delete(held[i]);
    ids = null;
  }
  return out.n;
}

export function counter(i: i32): f64 {
  if (i == C_SKIPPED) return skipped;
  if (i == C_LOST) return out.lost;
  if (i == C_OUT_OF_ORDER) return outOfOrder;
  if (i == C_DEVICES) return devices.size;
  if (i == C_SETTLED) return <f64>settledCount;
  if (i == C_BREAKS) return breaks;
  if (i == C_IMPLAUSIBLE) return implausibleSpeeds;
  return NaN;
}

// State: the counters and the stream's clock, then every device (in the order they were first seen, which
// is the order sweeps and flushes write them) with its lattice (mapmatch/state.ts).

function writeState(w: StateWriter): void {
  w.u32(skipped);
  w.u32(outOfOrder);
  w.u32(out.lost);
  w.u32(breaks);
  w.u32(implausibleSpeeds);
  w.f64(<f64>settledCount);
  w.f64(now);
  w.f64(lastSweep);
  const held = deviceIds();
  w.u32(held.length);
  for (let i = 0; i < held.length; i++) {
    w.u32(held[i]);
    writeDevice(w, devices.get(held[i]));
  }
}

export function snapshot(ptr: usize, cap: i32): i32 {
  return writeSnapshot(ptr, cap, writeState);
}

export function restore(ptr: usize, len: i32): i32 {
  const r = new StateReader(ptr, ptr + <usize>len);
  const counts = [r.u32(), r.u32(), r.u32(), r.u32(), r.u32()];
  const settled = r.f64();
  const clock = r.f64();
  const swept = r.f64();
  const next = new Map<u32, Device>();
  for (let i: u32 = 0, n = r.u32(); i < n && r.ok; i++) {
    const id = r.u32();
    const d = readDevice(r);
    if (d == null) return fail('not a mapmatch snapshot of this kernel: a device does not read back (other params?)');
    next.set(id, d);
  }
  if (!r.done()) return fail('not a mapmatch snapshot: it ends early or goes on past its devices');
  skipped = counts[0];
  outOfOrder = counts[1];
  out.lost = counts[2];
  setBreaks(counts[3]);
  setImplausibleSpeeds(counts[4]);
  setSettled(<u64>settled);
  now = clock;
  lastSweep = swept;
  devices = next;
  ids = null;
  return 0;
}

// Devices moving between instances (a partition changing hands): each device's lattice as in a snapshot,
// nothing shared. The stream's clock stays: the importing instance's is the time its own devices have
// reached, and the moved devices' next fixes advance it; the counters tally what each instance did.

export function export_devices(wanted: usize, n: i32, ptr: usize, cap: i32): i32 {
  return writeDevices<Device>(devices, wanted, n, ptr, cap, writeDevice);
}

/** adds or replaces the devices given, all or none */
export function import_devices(ptr: usize, len: i32): i32 {
  ids = null;
  return readDevices<Device>(devices, ptr, len, readDevice, 'mapmatch');
}

export function drop_devices(dropped: usize, n: i32): i32 {
  ids = null;
  return dropFrom<Device>(devices, dropped, n);
}
