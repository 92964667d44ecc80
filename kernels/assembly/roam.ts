// roam: pairs of devices that come within `distance` metres of each other (nearby) and part again
// (faraway), Tile38's ROAM, debounced the way the geofence debounces its edges (docs/kernels.md).
//
// Each device's last good fix sits in a uniform grid of cells `distance` + REACH wide, so a fix is compared
// with the devices of its own and the eight neighbouring cells only, not with every device. A pair is kept
// only while it is near or on probation; a fix also steps every pair its device is in, wherever the other is,
// so a pair that parts is seen parting.
import {
  badCoordinates, colAccuracy, colDevice, colHeading, colLat, colLon, colSpeed, colT, declareCounter, declareKernel, fail, field, jsonList, Output,
  param, paramBool, paramF64, paramLen, StateReader, StateWriter, takeParams, writeSnapshot,
} from './abi';
import { M_PER_DEG, metresPerDegLon } from './geo';
import { isLate, isOutlier, Track } from './outlier-guard';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from './abi';

const NEARBY: u32 = 0;
const FARAWAY: u32 = 1;
// The host marks a device of group A (B) with this bit of its id (kernels/roam.ts): the batch carries ids,
// not names, and the patterns are matched against names.
const GROUP_A: u32 = 1 << 30;
const GROUP_B: u32 = 1 << 31;
/** metres the grid cells are wider than `distance`: what an extrapolated position may have moved */
const REACH: f64 = 50;
const RAD: f64 = Math.PI / 180;

declareKernel('roam', 'pairs of devices that come within a distance of each other (nearby) and part again (faraway), debounced');
const P_DISTANCE = param('distance', 'number', 'metres: two devices nearer than this are nearby', '"default":50,"min":0,"exclusiveMin":true');
const P_A = param('a', 'string', 'device id pattern of group A (* any characters, ? one): only pairs within A, or, with b, between A and B (the host marks the ids)');
const P_B = param('b', 'string', 'device id pattern of group B: only pairs of a device of A and one of B');
// the defaults are what `npm run bench -- events` picked on its tuning seeds (docs/kernels.md)
const P_HYSTERESIS = param('hysteresis', 'number', 'metres: a pair is in the new state only this far past the distance (nearer than distance − hysteresis, further than distance + hysteresis), and a fix counts only by how far beyond', '"default":3,"min":0');
const P_EVIDENCE = param('evidence', 'number', 'metres: what the fixes since the change must add up to past the hysteresis before nearby or faraway fires', '"default":20,"min":0');
const P_CONFIRM = param('confirm', 'number', 'seconds the new state must also have held, judged at a fix, before nearby or faraway fires', '"default":9.5,"min":0');
const P_MAX_SPEED = param('maxSpeed', 'number', 'm/s: a fix further from its device\'s last than this speed (plus its accuracy band) allows is an outlier, ignored', '"default":60,"min":0,"exclusiveMin":true');
const P_STALE = param('stale', 'number', 'seconds: a device whose last fix is further than this from the fix at hand, in time, is not compared', '"default":10,"min":0,"exclusiveMin":true');
const P_SMOOTHING = param('smoothing', 'number', "how far a fix moves the device's position from where its speed and heading put it, 0 to 1 (1: the fix itself)", '"default":0.15,"min":0,"exclusiveMin":true,"max":1');
const P_EXTRAPOLATE = param('extrapolate', 'boolean', "bring the other device's last fix to this fix's time by its speed and heading", '"default":true');

const F_ROW = field('row', 'row', 'the fix that confirmed the change');
const F_OTHER = field('other', 'device', 'the other device of the pair');
const F_DETECT = field('detect', 'enum', 'what happened', '"values":' + jsonList(['nearby', 'faraway']));
const F_AT = field('at', 'time', 'the first fix of the change (its probation): when the two came near, or parted');
const F_DISTANCE = field('distance', 'f64', 'metres between the two at the confirming fix');
const F_OTHER_LON = field('otherLon', 'f64', "the other device's position then (extrapolated): longitude");
const F_OTHER_LAT = field('otherLat', 'f64', 'its latitude');

const C_SKIPPED = declareCounter('skipped');
const C_LOST = declareCounter('lostRows');
const C_DEVICES = declareCounter('devices');
const C_OUTLIERS = declareCounter('outliers');
const C_UNGROUPED = declareCounter('ungrouped');
const C_CHECKS = declareCounter('pairChecks');
const C_PAIRS = declareCounter('pairs');

class Device extends Track {
  id: u32 = 0;
  /** where it is, smoothed: what pairs are measured by (Track's lon and lat are its last good fix, for the guard) */
  x: f64 = NaN;
  y: f64 = NaN;
  /** its velocity at its last fix, degrees a millisecond (NaN: its speed or heading unknown) */
  vLon: f64 = NaN;
  vLat: f64 = NaN;
  /** the grid cell it is listed in, and where in that cell's list */
  cell: i64 = NO_CELL;
  at: i32 = -1;
  /** the pairs it is in: near, or on probation */
  pairs: Array<Pair> = new Array<Pair>(0);
  /** == stamp: already compared with the fix at hand */
  seen: u32 = 0;
}

/** Two devices that are near, or whose raw state differs from the confirmed one: a change on probation. */
class Pair {
  near: bool = false;
  /** the CUSUM: metres past the distance and band on the new side, summed over the fixes since the change */
  e: f64 = 0;
  /** the first fix of the probation: in the new state, the sum above 0 since (NaN: none) */
  t0: f64 = NaN;
  /** the first fix of the current run in the new state (NaN: the last fix was in the old one) */
  run: f64 = NaN;
  constructor(
    public a: Device,
    public b: Device,
  ) {}
}

const NO_CELL: i64 = i64.MIN_VALUE;

let distance: f64 = 50;
let groupA = false;
let groupB = false;
let band: f64 = 3;
let evidence: f64 = 20;
let confirmMs: f64 = 9500;
let maxSpeed: f64 = 60;
let staleMs: f64 = 10000;
let extrapolate = true;
let smoothing: f64 = 0.15;
let cellSize: f64 = 100;
/** the grid's frame: x metres = lon × kx, from the first fix's latitude */
let originLat: f64 = NaN;
let kx: f64 = M_PER_DEG;

let devices = new Map<u32, Device>();
let cells = new Map<i64, Array<Device>>();
let pairCount: i32 = 0;
let stamp: u32 = 0;

let skipped: u32 = 0;
let outliers: u32 = 0;
let ungrouped: u32 = 0;
let checks: f64 = 0;
const out = new Output();

export function init(ptr: usize, len: i32): i32 {
  const status = takeParams(ptr, len);
  if (status != 0) return status;
  distance = paramF64(P_DISTANCE);
  groupA = paramLen(P_A) > 0;
  groupB = paramLen(P_B) > 0;
  if (groupB && !groupA) return fail('b needs a: give group A too (or only a, for pairs within one group)');
  band = paramF64(P_HYSTERESIS);
  evidence = paramF64(P_EVIDENCE);
  confirmMs = paramF64(P_CONFIRM) * 1000;
  maxSpeed = paramF64(P_MAX_SPEED);
  staleMs = paramF64(P_STALE) * 1000;
  extrapolate = paramBool(P_EXTRAPOLATE);
  smoothing = paramF64(P_SMOOTHING);
  cellSize = distance + REACH;
  originLat = NaN;
  devices = new Map<u32, Device>();
  cells = new Map<i64, Array<Device>>();
  pairCount = 0;
  skipped = outliers = ungrouped = 0;
  checks = 0;
  out.lost = 0;
  return 0;
}

/** a device the groups take part in */
@inline function grouped(id: u32): bool {
  return !groupA || (id & (groupB ? GROUP_A | GROUP_B : GROUP_A)) != 0;
}

/** two devices the groups pair: any two, two of A, or one of A and one of B */
@inline function pairable(i: u32, j: u32): bool {
  return !groupB || ((i & GROUP_A) != 0 && (j & GROUP_B) != 0) || ((i & GROUP_B) != 0 && (j & GROUP_A) != 0);
}

@inline function cellOf(lon: f64, lat: f64): i64 {
  const ix = <i64>Math.floor((lon * kx) / cellSize);
  const iy = <i64>Math.floor((lat * M_PER_DEG) / cellSize);
  return (ix << 32) | (iy & 0xffffffff);
}

/** lists the device in the cell of its position, out of the one it was in */
function place(d: Device): void {
  const c = cellOf(d.x, d.y);
  if (c == d.cell) return;
  if (d.cell != NO_CELL) {
    const list = cells.get(d.cell);
    const last = list.pop();
    if (last !== d) {
      unchecked((list[d.at] = last));
      last.at = d.at;
    }
    if (list.length == 0) cells.delete(d.cell);
  }
  if (!cells.has(c)) cells.set(c, new Array<Device>(0));
  const list = cells.get(c);
  d.cell = c;
  d.at = list.length;
  list.push(d);
}

// the other device's position at the fix at hand, as separation() last put it
let otherLon: f64 = 0;
let otherLat: f64 = 0;

/** metres between device d (its fix at hand) and o, brought forward to d's time by o's speed and heading */
function separation(d: Device, o: Device): f64 {
  otherLon = o.x;
  otherLat = o.y;
  if (extrapolate && !isNaN(o.vLon)) {
    otherLon += o.vLon * (d.t - o.t);
    otherLat += o.vLat * (d.t - o.t);
  }
  checks++;
  // the grid's frame: within a city, a cosine per pair would buy nothing but time
  const dx = (otherLon - d.x) * kx;
  const dy = (otherLat - d.y) * M_PER_DEG;
  return Math.sqrt(dx * dx + dy * dy);
}

/**
 * A constant-velocity filter: the position its last speed and heading predict, moved `smoothing` of the way to
 * the fix. Receivers measure speed and heading (Doppler) far better than position, and two receivers' noise
 * adds up in a pair's distance: unsmoothed, σ 10 m each put most pairs near the distance on both sides of it.
 */
function smooth(d: Device, x: f64, y: f64, dt: f64): void {
  if (isNaN(d.x) || !(dt >= 0) || dt > staleMs || isNaN(d.vLon)) {
    d.x = x;
    d.y = y;
    return;
  }
  const px = d.x + d.vLon * dt;
  const py = d.y + d.vLat * dt;
  d.x = px + smoothing * (x - px);
  d.y = py + smoothing * (y - py);
}

// the events of the fix at hand, written once it has been compared with everyone, in the other's id order
// (the order pairs were found in is the grid's, which a restored instance does not share)
let evOther = new Array<u32>(0);
let evDetect = new Array<u32>(0);
let evAt = new Array<f64>(0);
let evDistance = new Array<f64>(0);
let evLon = new Array<f64>(0);
let evLat = new Array<f64>(0);
let parted = new Array<Pair>(0);

/**
 * Debounced change of a pair, as the geofence's edges: each fix of either device adds how far past the distance
 * it is on the new side, less the band (capped at half the evidence), to a CUSUM that never drops below 0; the
 * change fires once the sum reaches `evidence` and the new state has held `confirm` (the current run of fixes
 * in it), judged at a fix. Unlike the geofence's edges, the event carries the first fix of the probation, not
 * of the run: the noise of two receivers puts a fix back in the old state every few near the distance, and the
 * run's start is later than the change (0.6 points of F1 in `npm run bench -- events --roam`). A far pair whose
 * sum is back at 0 is forgotten.
 */
function step(p: Pair, d: Device, o: Device): void {
  if (Math.abs(d.t - o.t) > staleMs) return;
  const dist = separation(d, o);
  // a Schmitt trigger: in the new state only past the band, so a pair that stays at the distance never gets there
  const newSide = p.near ? dist > distance + band : dist <= distance - band;
  const past = Math.min(band + Math.max(evidence * 0.5, 1), Math.abs(dist - distance));
  p.e = Math.max(0, p.e + (newSide ? past : -past) - band);
  if (!newSide) {
    p.run = NaN;
    if (p.e > 0) return;
    p.t0 = NaN;
    if (!p.near) parted.push(p);
    return;
  }
  if (isNaN(p.t0)) p.t0 = d.t;
  if (isNaN(p.run)) p.run = d.t;
  if (!(p.e > 0 && p.e >= evidence && d.t - p.run >= confirmMs)) return;
  p.near = !p.near;
  evOther.push(o.id);
  evDetect.push(p.near ? NEARBY : FARAWAY);
  evAt.push(p.t0);
  evDistance.push(dist);
  evLon.push(otherLon);
  evLat.push(otherLat);
  p.e = 0;
  p.t0 = p.run = NaN;
  if (!p.near) parted.push(p);
}

function unlink(p: Pair): void {
  p.a.pairs.splice(p.a.pairs.indexOf(p), 1);
  p.b.pairs.splice(p.b.pairs.indexOf(p), 1);
  pairCount--;
}

function link(p: Pair): void {
  p.a.pairs.push(p);
  p.b.pairs.push(p);
  pairCount++;
}

/** The fix at hand (device d) against the pairs d is in, then against the rest of its neighbourhood. */
function compare(d: Device): void {
  stamp++;
  d.seen = stamp;
  for (let j = 0, n = d.pairs.length; j < n; j++) {
    const p = unchecked(d.pairs[j]);
    const o = p.a === d ? p.b : p.a;
    o.seen = stamp;
    step(p, d, o);
  }
  const c = d.cell;
  for (let dx: i64 = -1; dx <= 1; dx++) {
    for (let dy: i64 = -1; dy <= 1; dy++) {
      // cellOf packs iy in the low 32 bits: a neighbour's key is the same packing of ix+dx, iy+dy
      const key = (((c >> 32) + dx) << 32) | ((((c << 32) >> 32) + dy) & 0xffffffff);
      if (!cells.has(key)) continue;
      const list = cells.get(key);
      for (let j = 0, n = list.length; j < n; j++) {
        const o = unchecked(list[j]);
        if (o.seen == stamp) continue;
        o.seen = stamp;
        if (!pairable(d.id, o.id) || Math.abs(d.t - o.t) > staleMs) continue;
        // nearer than the distance but not past the band, a new pair would be forgotten at once
        if (separation(d, o) > distance - band) continue;
        const p = d.id < o.id ? new Pair(d, o) : new Pair(o, d);
        link(p);
        step(p, d, o);
      }
    }
  }
  for (let j = 0; j < parted.length; j++) unlink(unchecked(parted[j]));
  parted.length = 0;
}

/** writes the fix's events in the other's id order */
function emitEvents(row: i32): void {
  const n = evOther.length;
  for (let k = 0; k < n; k++) {
    let best = k;
    for (let j = k + 1; j < n; j++) if (unchecked(evOther[j]) < unchecked(evOther[best])) best = j;
    const i = out.next();
    if (i >= 0) {
      out.u32(F_ROW, i, <u32>row);
      out.u32(F_OTHER, i, evOther[best]);
      out.u32(F_DETECT, i, evDetect[best]);
      out.f64(F_AT, i, evAt[best]);
      out.f64(F_DISTANCE, i, evDistance[best]);
      out.f64(F_OTHER_LON, i, evLon[best]);
      out.f64(F_OTHER_LAT, i, evLat[best]);
    }
    evOther[best] = evOther[k];
    evDetect[best] = evDetect[k];
    evAt[best] = evAt[k];
    evDistance[best] = evDistance[k];
    evLon[best] = evLon[k];
    evLat[best] = evLat[k];
  }
  evOther.length = evDetect.length = evAt.length = evDistance.length = evLon.length = evLat.length = 0;
}

function device(id: u32): Device {
  if (devices.has(id)) return devices.get(id);
  const d = new Device();
  d.id = id;
  devices.set(id, d);
  return d;
}

/** Rows at `out`: row · other · detect · at · distance · otherLon · otherLat. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  const tCol = colT(batch, n);
  const lonCol = colLon(batch, n);
  const latCol = colLat(batch, n);
  const speedCol = colSpeed(batch, n);
  const headingCol = colHeading(batch, n);
  const accCol = colAccuracy(batch, n);
  const devCol = colDevice(batch, n);
  for (let row = 0; row < n; row++) {
    const t = load<f64>(tCol + (<usize>row << 3));
    const x = load<f64>(lonCol + (<usize>row << 3));
    const y = load<f64>(latCol + (<usize>row << 3));
    if (!isFinite(t) || badCoordinates(x, y)) {
      skipped++;
      continue;
    }
    const id = load<u32>(devCol + (<usize>row << 2));
    if (!grouped(id)) {
      ungrouped++;
      continue;
    }
    const d = device(id);
    if (isLate(d, t)) {
      skipped++;
      continue;
    }
    const tBefore = d.t;
    if (isOutlier(d, t, x, y, <f64>load<f32>(accCol + (<usize>row << 2)), maxSpeed)) {
      outliers++;
      continue;
    }
    if (isNaN(originLat)) {
      originLat = y;
      kx = metresPerDegLon(y);
    }
    const dt = t - tBefore;
    d.lon = x;
    d.lat = y;
    smooth(d, x, y, dt);
    const speed = <f64>load<f32>(speedCol + (<usize>row << 2));
    const heading = <f64>load<f32>(headingCol + (<usize>row << 2)) * RAD;
    d.vLon = (speed * Math.sin(heading)) / 1000 / metresPerDegLon(y);
    d.vLat = (speed * Math.cos(heading)) / 1000 / M_PER_DEG;
    place(d);
    compare(d);
    emitEvents(row);
  }
  return out.n;
}

/** Nothing is held back: every row is written by the process() call of its fix. */
export function flush(outPtr: usize, cap: i32): i32 {
  return 0;
}

export function counter(i: i32): f64 {
  if (i == C_SKIPPED) return skipped;
  if (i == C_LOST) return out.lost;
  if (i == C_DEVICES) return devices.size;
  if (i == C_OUTLIERS) return outliers;
  if (i == C_UNGROUPED) return ungrouped;
  if (i == C_CHECKS) return checks;
  if (i == C_PAIRS) return pairCount;
  return NaN;
}

// State: the counters, the grid's latitude, per device u32 id · f64 lon · f64 lat · f64 t · u32 refused (its
// Track) · f64 x · f64 y · f64 vLon · f64 vLat, then per pair u32 a · u32 b · u32 near · f64 e · f64 t0 · f64 run. The grid is rebuilt from
// the positions; a pair on probation stays on probation.

function writeState(w: StateWriter): void {
  w.u32(skipped);
  w.u32(out.lost);
  w.u32(outliers);
  w.u32(ungrouped);
  w.f64(checks);
  w.f64(originLat);
  const ds = devices.values();
  w.u32(ds.length);
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    w.u32(d.id);
    d.writeTrack(w);
    w.f64(d.x);
    w.f64(d.y);
    w.f64(d.vLon);
    w.f64(d.vLat);
  }
  w.u32(pairCount);
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i];
    for (let j = 0; j < d.pairs.length; j++) {
      const p = d.pairs[j];
      if (p.a !== d) continue;
      w.u32(p.a.id);
      w.u32(p.b.id);
      w.bool(p.near);
      w.f64(p.e);
      w.f64(p.t0);
      w.f64(p.run);
    }
  }
}

export function snapshot(ptr: usize, cap: i32): i32 {
  return writeSnapshot(ptr, cap, writeState);
}

export function restore(ptr: usize, len: i32): i32 {
  const r = new StateReader(ptr, ptr + <usize>len);
  const counts = [r.u32(), r.u32(), r.u32(), r.u32()];
  const checksThen = r.f64();
  const lat = r.f64();
  const nDevices = r.u32();
  const next = new Map<u32, Device>();
  for (let i: u32 = 0; i < nDevices && r.ok; i++) {
    const d = new Device();
    d.id = r.u32();
    d.readTrack(r);
    d.x = r.f64();
    d.y = r.f64();
    d.vLon = r.f64();
    d.vLat = r.f64();
    next.set(d.id, d);
  }
  const nPairs = r.u32();
  const pairs = new Array<Pair>(0);
  for (let i: u32 = 0; i < nPairs && r.ok; i++) {
    const a = r.u32();
    const b = r.u32();
    if (!next.has(a) || !next.has(b)) return fail('roam snapshot names a device it does not hold');
    const p = new Pair(next.get(a), next.get(b));
    p.near = r.bool();
    p.e = r.f64();
    p.t0 = r.f64();
    p.run = r.f64();
    pairs.push(p);
  }
  if (!r.done()) return fail('not a roam snapshot: it ends early or goes on past its pairs');
  skipped = counts[0];
  out.lost = counts[1];
  outliers = counts[2];
  ungrouped = counts[3];
  checks = checksThen;
  originLat = lat;
  if (!isNaN(lat)) kx = metresPerDegLon(lat);
  devices = next;
  cells = new Map<i64, Array<Device>>();
  const ds = next.values();
  for (let i = 0; i < ds.length; i++) if (!isNaN(ds[i].x)) place(ds[i]);
  pairCount = 0;
  for (let i = 0; i < pairs.length; i++) link(pairs[i]);
  return 0;
}
