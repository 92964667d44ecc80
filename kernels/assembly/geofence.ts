// geofence: which fences each fix is in, and the events a device's movement makes (docs/kernel-abi.md).
//
// Fences arrive compiled by the host (kernels/fence-compiler.ts) as the `fences` param: polygons with holes,
// multipolygons and circles. A uniform grid over all fence boxes picks candidate fences for a fix; inside a
// polygon, horizontal slabs list the edges that span each band of latitude, so a ray cast tests only the
// edges at the fix's latitude. Boundary rule: a point on any edge or vertex is inside (as Turf's
// booleanPointInPolygon with ignoreBoundary=false).
import {
  badCoordinates, colAccuracy, colDevice, colLat, colLon, colT, declareCounter, declareKernel, fail, field, jsonList, Output, param, paramBool, paramF64,
  paramItemU32, paramLen, paramPtr, StateReader, StateWriter, takeParams, writeSnapshot, writeDevices, readDevices, dropFrom,
} from './abi';
import { localMetres, M_PER_DEG, metresPerDegLon, snapToSegment } from './geo';
import { isLate, isOutlier, taken, Track } from './outlier-guard';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from './abi';

// what happened: the `detect` enum of the params and of the output rows
const ENTER: u32 = 0;
const EXIT: u32 = 1;
const INSIDE: u32 = 2;
const OUTSIDE: u32 = 3;
const CROSS: u32 = 4;
const DWELL: u32 = 5;
const KINDS = ['enter', 'exit', 'inside', 'outside', 'cross', 'dwell'];

declareKernel('geofence', 'which fences each fix is in, and the events a device makes: enter, exit, inside, outside, cross, dwell');
const P_FENCES = param('fences', 'fences', 'GeoJSON Polygons and MultiPolygons (with holes), Points with properties.radius (m) as circles; or an OSM PBF\'s boundaries', '"required":true');
param('adminLevel', 'integer', 'with an OSM PBF as fences: the admin_level of the boundaries (the host reads it)', '"default":10,"min":1,"max":12');
const P_DETECT = param('detect', 'array', 'the events to report', '"items":{"type":"enum","values":' + jsonList(KINDS) + '},"default":["enter","exit","cross","dwell"]');
const P_DWELL = param('dwell', 'number', 'seconds inside a fence before dwell fires, once per visit', '"default":300,"min":0');
const P_CONTAINS = param('contains', 'boolean', 'instead of events, an inside row per fence containing each fix (no per-device state)', '"default":false');
// the defaults are what `npm run bench -- events` picked on its tuning seeds for raw gps (docs/kernels.md); fed
// map-matched positions, a workflow sets confirmRun true, hysteresis 0 (what the bench picked for those)
const P_DEBOUNCE = param('debounce', 'boolean', 'enter and exit only once the fixes are clear of the boundary on the new side (hysteresis, evidence, confirm, accuracy, maxSpeed); false: an event at every raw change', '"default":true');
const P_HYSTERESIS = param('hysteresis', 'number', 'metres: a fix counts for the new side only by how far past the boundary beyond this it is (and against it, by how far short)', '"default":3,"min":0');
const P_EVIDENCE = param('evidence', 'number', 'metres: what the fixes since the change must add up to past the hysteresis before enter or exit fires (a CUSUM of signed distance to the boundary)', '"default":20,"min":0');
const P_CONFIRM = param('confirm', 'number', 'seconds the new side must also have held, judged at the next fix, before enter or exit fires', '"default":9,"min":0');
const P_CONFIRM_RUN = param('confirmRun', 'boolean', 'the confirm wait counts the current run of fixes on the new side, so a fix back across the boundary starts it again; false: it counts from the first fix on the new side since the evidence was last 0, so a fix wobbling back within the noise does not', '"default":false');
const P_CROSSING = param('crossing', 'boolean', 'a debounced enter or exit is dated where the line from the last fix before the new side to the first on it crosses the boundary, split by their distances to it; false: at that first fix', '"default":true');
const P_ACCURACY = param('accuracy', 'number', "times the fix's accuracy (m) added to the hysteresis", '"default":0,"min":0');
const P_MAX_SPEED = param('maxSpeed', 'number', 'm/s: a fix further from the last than this speed (plus its accuracy band) allows is an outlier, ignored', '"default":60,"min":0,"exclusiveMin":true');

const F_ROW = field('row', 'row', 'the fix');
const F_FENCE = field('fence', 'fence', 'the fence');
const F_DETECT = field('detect', 'enum', 'what happened', '"values":' + jsonList(KINDS));
const F_AT = field('at', 'time', 'the first fix of the new state, debounced: the crossing estimate (else the fix)');
const F_AT_LON = field('atLon', 'f64', 'its longitude');
const F_AT_LAT = field('atLat', 'f64', 'its latitude');

const C_SKIPPED = declareCounter('skipped');
const C_LOST = declareCounter('lostRows');
const C_DEVICES = declareCounter('devices');
const C_OUTLIERS = declareCounter('outliers');

const KIND_POLYGON: u32 = 1;
const KIND_CIRCLE: u32 = 2;
const GRID: i32 = 64;
const FENCE_BYTES: usize = 72;

// fence data, read where the host put it
let nFences: i32 = 0;
let fencesAt: usize = 0;
let partsAt: usize = 0;
let ringsAt: usize = 0;
let coordsAt: usize = 0;

// per part: slab index over its edges (edge = index of its first coordinate), in flat arrays the ray cast
// reads without bounds checks
let fBands = new StaticArray<i32>(0); // bands per part
let fMinY = new StaticArray<f64>(0);
let fBandH = new StaticArray<f64>(0);
let fSlabAt = new StaticArray<i32>(0); // index into fSlabStart for band 0 of the part
let fSlabStart = new StaticArray<i32>(0); // per band: start in fSlabEdges; one extra per part as the end
let fSlabEdges = new StaticArray<u32>(0);

// grid over all fence boxes
let gMinX: f64 = 0;
let gMinY: f64 = 0;
let gCellW: f64 = 1;
let gCellH: f64 = 1;
let gridStart = new StaticArray<i32>(GRID * GRID + 1);
let fGridFences = new StaticArray<u32>(0);

// params
let detect: u32 = 0;
let dwellMs: f64 = 0;
let containsMode: bool = false;
let debounce: bool = true;
let hysteresis: f64 = 0;
let evidence: f64 = 0;
let confirmMs: f64 = 0;
let confirmRun: bool = false;
let crossing: bool = true;
let accuracyK: f64 = 0;
let maxSpeed: f64 = 0;

/** A fence whose raw side differs from the device's confirmed one: an enter or exit on probation. */
class Pending {
  fence: u32 = 0;
  /** the first fix of the current run on the new side (NaN: the last fix was on the old side); with confirmRun
   *  false, the first fix on the new side of the probation: what the confirm wait counts from */
  t0: f64 = NaN;
  /** where and when the event is dated: the crossing estimate (with `crossing` false, the fix at t0) */
  tc: f64 = NaN;
  xc: f64 = NaN;
  yc: f64 = NaN;
  /** the CUSUM: metres past the band, summed over the fixes since the change, never below 0 */
  e: f64 = 0;
}

// A device inside no fence with none on probation (most of a fleet, most of the time) shares these empty
// arrays, and gets its own only to add to them (ownFences, ownPending): four arrays per device made
// restoring 1,000 such devices most of a wake's kernel work. Nothing adds to these.
const NO_FENCES = new Array<u32>(0);
const NO_TIMES = new Array<f64>(0);
const NO_FLAGS = new Array<bool>(0);
const NO_PENDING = new Array<Pending>(0);

/** Its fences, pending edges, and (Track) its last fix and the outlier guard's count. */
class Device extends Track {
  inside: Array<u32> = NO_FENCES;
  since: Array<f64> = NO_TIMES;
  dwelled: Array<bool> = NO_FLAGS;
  pending: Array<Pending> = NO_PENDING;

  /** inside, since and dwelled of its own, to add a fence to */
  ownFences(): void {
    if (this.inside.length) return;
    this.inside = new Array<u32>(0);
    this.since = new Array<f64>(0);
    this.dwelled = new Array<bool>(0);
  }

  /** pending of its own, to add to */
  ownPending(): void {
    if (!this.pending.length) this.pending = new Array<Pending>(0);
  }
}
let devices = new Map<u32, Device>();

let skipped: u32 = 0;
let outliers: u32 = 0;
const out = new Output();

@inline function fence(i: i32): usize { return fencesAt + <usize>i * FENCE_BYTES; }
@inline function fKind(i: i32): u32 { return load<u32>(fence(i)); }
@inline function fFirstPart(i: i32): i32 { return load<i32>(fence(i), 4); }
@inline function fParts(i: i32): i32 { return load<i32>(fence(i), 8); }
@inline function fBox(i: i32, k: i32): f64 { return load<f64>(fence(i) + 16 + (<usize>k << 3)); }
@inline function fCircle(i: i32, k: i32): f64 { return load<f64>(fence(i) + 48 + (<usize>k << 3)); }
@inline function partFirstRing(p: i32): i32 { return load<i32>(partsAt + (<usize>p << 3)); }
@inline function partRings(p: i32): i32 { return load<i32>(partsAt + (<usize>p << 3), 4); }
@inline function ringFirst(r: i32): i32 { return load<i32>(ringsAt + (<usize>r << 3)); }
@inline function ringCount(r: i32): i32 { return load<i32>(ringsAt + (<usize>r << 3), 4); }
@inline function cx(c: u32): f64 { return load<f64>(coordsAt + (<usize>c << 4)); }
@inline function cy(c: u32): f64 { return load<f64>(coordsAt + (<usize>c << 4) + 8); }

/** Takes the compiled fences, read in place for the instance's life. */
function loadFences(ptr: usize, len: i32): i32 {
  if (len < 16) return fail('no fences, or fence data shorter than its header');
  nFences = load<i32>(ptr);
  const nParts = load<i32>(ptr, 4);
  const nRings = load<i32>(ptr, 8);
  const nCoords = load<i32>(ptr, 12);
  fencesAt = ptr + 16;
  partsAt = fencesAt + <usize>nFences * FENCE_BYTES;
  ringsAt = partsAt + (<usize>nParts << 3);
  coordsAt = ringsAt + (<usize>nRings << 3);
  if (coordsAt + (<usize>nCoords << 4) != ptr + <usize>len) return fail('fence data length does not match its header');
  buildSlabs(nParts);
  buildGrid();
  occupied = new StaticArray<u32>(nFences);
  stamp = 0;
  devices = new Map<u32, Device>();
  return 0;
}

// Both indexes are built as counts, then prefix sums (each cell's or band's end), then filled backwards
// (fences or edges in reverse, each put before its cell's or band's end), so every list comes out in
// ascending order as pushing would make it, without an array per cell or band: init was 8,000 allocations
// for 4,096 grid cells, most of them empty.

function buildSlabs(nParts: i32): void {
  fBands = new StaticArray<i32>(nParts);
  fMinY = new StaticArray<f64>(nParts);
  fBandH = new StaticArray<f64>(nParts);
  fSlabAt = new StaticArray<i32>(nParts);
  let slabs = 0;
  for (let p = 0; p < nParts; p++) {
    let minY = Infinity;
    let maxY = -Infinity;
    let edges = 0;
    const r0 = partFirstRing(p);
    for (let r = r0; r < r0 + partRings(p); r++) {
      const c0 = <u32>ringFirst(r);
      const n = ringCount(r);
      edges += n - 1;
      for (let c = c0; c < c0 + <u32>n; c++) {
        minY = Math.min(minY, cy(c));
        maxY = Math.max(maxY, cy(c));
      }
    }
    const bands = max(1, min(256, edges >> 3));
    fBands[p] = bands;
    fMinY[p] = minY;
    fBandH[p] = (maxY - minY) / bands || 1;
    fSlabAt[p] = slabs;
    slabs += bands + 1;
  }
  fSlabStart = new StaticArray<i32>(slabs);
  for (let p = 0; p < nParts; p++) eachEdgeBand(p, false);
  let total = 0;
  for (let p = 0; p < nParts; p++) {
    const at = fSlabAt[p];
    for (let b = 0; b < fBands[p]; b++) {
      total += fSlabStart[at + b];
      fSlabStart[at + b] = total;
    }
    fSlabStart[at + fBands[p]] = total;
  }
  fSlabEdges = new StaticArray<u32>(total);
  for (let p = 0; p < nParts; p++) eachEdgeBand(p, true);
}

/** Every edge of part p in every band it spans, last edge first: counted (`fill` false) or put before its band's end. */
function eachEdgeBand(p: i32, fill: bool): void {
  const bands = fBands[p];
  const minY = fMinY[p];
  const h = fBandH[p];
  const at = fSlabAt[p];
  const r0 = partFirstRing(p);
  for (let r = r0 + partRings(p) - 1; r >= r0; r--) {
    const c0 = ringFirst(r);
    for (let c = c0 + ringCount(r) - 2; c >= c0; c--) {
      const y1 = cy(<u32>c), y2 = cy(<u32>c + 1);
      const b0 = clampBand(<i32>Math.floor((Math.min(y1, y2) - minY) / h), bands);
      const b1 = clampBand(<i32>Math.floor((Math.max(y1, y2) - minY) / h), bands);
      for (let b = b0; b <= b1; b++) {
        if (fill) fSlabEdges[--fSlabStart[at + b]] = <u32>c;
        else fSlabStart[at + b]++;
      }
    }
  }
}

@inline function clampBand(b: i32, bands: i32): i32 { return b < 0 ? 0 : b >= bands ? bands - 1 : b; }

function buildGrid(): void {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < nFences; i++) {
    minX = Math.min(minX, fBox(i, 0));
    minY = Math.min(minY, fBox(i, 1));
    maxX = Math.max(maxX, fBox(i, 2));
    maxY = Math.max(maxY, fBox(i, 3));
  }
  gMinX = minX;
  gMinY = minY;
  gCellW = (maxX - minX) / GRID || 1;
  gCellH = (maxY - minY) / GRID || 1;
  for (let c = 0; c <= GRID * GRID; c++) gridStart[c] = 0;
  for (let i = 0; i < nFences; i++) eachFenceCell(i, false);
  let total = 0;
  for (let c = 0; c < GRID * GRID; c++) {
    total += gridStart[c];
    gridStart[c] = total;
  }
  gridStart[GRID * GRID] = total;
  fGridFences = new StaticArray<u32>(total);
  for (let i = nFences - 1; i >= 0; i--) eachFenceCell(i, true);
}

/** Every grid cell fence i's box covers: counted (`fill` false) or the fence put before the cell's end. */
function eachFenceCell(i: i32, fill: bool): void {
  const x0 = gx(fBox(i, 0)), x1 = gx(fBox(i, 2)), y0 = gy(fBox(i, 1)), y1 = gy(fBox(i, 3));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (fill) fGridFences[--gridStart[y * GRID + x]] = <u32>i;
      else gridStart[y * GRID + x]++;
    }
  }
}

@inline function gx(x: f64): i32 { return clampBand(<i32>Math.floor((x - gMinX) / gCellW), GRID); }
@inline function gy(y: f64): i32 { return clampBand(<i32>Math.floor((y - gMinY) / gCellH), GRID); }

export function init(ptr: usize, len: i32): i32 {
  let status = takeParams(ptr, len);
  if (status == 0) status = loadFences(paramPtr(P_FENCES), paramLen(P_FENCES));
  if (status != 0) return status;
  detect = 0;
  for (let j = 0; j < paramLen(P_DETECT); j++) detect |= 1 << paramItemU32(P_DETECT, j);
  dwellMs = paramF64(P_DWELL) * 1000;
  containsMode = paramBool(P_CONTAINS);
  debounce = paramBool(P_DEBOUNCE);
  hysteresis = paramF64(P_HYSTERESIS);
  evidence = paramF64(P_EVIDENCE);
  confirmMs = paramF64(P_CONFIRM) * 1000;
  confirmRun = paramBool(P_CONFIRM_RUN);
  crossing = paramBool(P_CROSSING);
  accuracyK = paramF64(P_ACCURACY);
  maxSpeed = paramF64(P_MAX_SPEED);
  skipped = 0;
  outliers = 0;
  out.lost = 0;
  return 0;
}

/** 1 inside (or on the boundary), 0 outside, for polygon part p */
function inPart(p: i32, x: f64, y: f64): bool {
  const h = unchecked(fBandH[p]);
  const bands = unchecked(fBands[p]);
  const minY = unchecked(fMinY[p]);
  const b = <i32>Math.floor((y - minY) / h);
  if (b < 0 || b >= bands) {
    // y outside the part's range can still lie on its top edge
    if (y != minY + h * bands) return false;
  }
  const band = clampBand(b, bands);
  const s = unchecked(fSlabAt[p]) + band;
  let inside = false;
  const end = unchecked(fSlabStart[s + 1]);
  for (let j = unchecked(fSlabStart[s]); j < end; j++) {
    const c = unchecked(fSlabEdges[j]);
    const x1 = cx(c), y1 = cy(c), x2 = cx(c + 1), y2 = cy(c + 1);
    // on the edge itself: inside
    if (min(y1, y2) <= y && y <= max(y1, y2) && min(x1, x2) <= x && x <= max(x1, x2) && (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) == 0) return true;
    if (y1 > y != y2 > y && x < x1 + ((y - y1) * (x2 - x1)) / (y2 - y1)) inside = !inside;
  }
  return inside;
}

function contains(i: i32, x: f64, y: f64): bool {
  if (x < fBox(i, 0) || x > fBox(i, 2) || y < fBox(i, 1) || y > fBox(i, 3)) return false;
  if (fKind(i) == KIND_CIRCLE) return localMetres(fCircle(i, 0), fCircle(i, 1), x, y) <= fCircle(i, 2);
  const p0 = fFirstPart(i);
  for (let p = p0; p < p0 + fParts(i); p++) if (inPart(p, x, y)) return true;
  return false;
}

/** Does the segment a→b touch fence i's boundary (or, for a circle, its disc)? */
function segmentTouches(i: i32, ax: f64, ay: f64, bx: f64, by: f64): bool {
  if (max(ax, bx) < fBox(i, 0) || min(ax, bx) > fBox(i, 2) || max(ay, by) < fBox(i, 1) || min(ay, by) > fBox(i, 3)) return false;
  if (fKind(i) == KIND_CIRCLE) {
    // closest point of the segment to the centre, in a local metric frame
    const k = metresPerDegLon(fCircle(i, 1));
    const ox = fCircle(i, 0), oy = fCircle(i, 1);
    return snapToSegment((ax - ox) * k, (ay - oy) * M_PER_DEG, (bx - ox) * k, (by - oy) * M_PER_DEG) <= fCircle(i, 2);
  }
  const p0 = fFirstPart(i);
  for (let p = p0; p < p0 + fParts(i); p++) if (partSegmentTouches(p, ax, ay, bx, by)) return true;
  return false;
}

/** Does segment a→b cross an edge of part p? Only the edges in the slabs the segment spans are tried. */
function partSegmentTouches(p: i32, ax: f64, ay: f64, bx: f64, by: f64): bool {
  const h = unchecked(fBandH[p]);
  const bands = unchecked(fBands[p]);
  const minY = unchecked(fMinY[p]);
  const b0 = clampBand(<i32>Math.floor((min(ay, by) - minY) / h), bands);
  const b1 = clampBand(<i32>Math.floor((max(ay, by) - minY) / h), bands);
  const at = unchecked(fSlabAt[p]);
  for (let b = b0; b <= b1; b++) {
    const end = unchecked(fSlabStart[at + b + 1]);
    for (let j = unchecked(fSlabStart[at + b]); j < end; j++) {
      const c = unchecked(fSlabEdges[j]);
      if (segmentsIntersect(ax, ay, bx, by, cx(c), cy(c), cx(c + 1), cy(c + 1))) return true;
    }
  }
  return false;
}

@inline function orient(ax: f64, ay: f64, bx: f64, by: f64, px: f64, py: f64): f64 {
  return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

function segmentsIntersect(ax: f64, ay: f64, bx: f64, by: f64, cx_: f64, cy_: f64, dx: f64, dy: f64): bool {
  const d1 = orient(cx_, cy_, dx, dy, ax, ay);
  const d2 = orient(cx_, cy_, dx, dy, bx, by);
  const d3 = orient(ax, ay, bx, by, cx_, cy_);
  const d4 = orient(ax, ay, bx, by, dx, dy);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

/** A row about fix `row`; `at` is when and where the new state began (the fix itself but for debounced edges). */
function emitAt(row: i32, f: u32, kind: u32, at: f64, atX: f64, atY: f64): void {
  const i = out.next();
  if (i < 0) return;
  out.u32(F_ROW, i, <u32>row);
  out.u32(F_FENCE, i, f);
  out.u32(F_DETECT, i, kind);
  out.f64(F_AT, i, at);
  out.f64(F_AT_LON, i, atX);
  out.f64(F_AT_LAT, i, atY);
}

// the fix being processed, for rows about it alone
let fixT: f64 = 0;
let fixX: f64 = 0;
let fixY: f64 = 0;
@inline function emit(row: i32, f: u32, kind: u32): void { emitAt(row, f, kind, fixT, fixX, fixY); }

/** The distance from (x, y) to fence i's boundary, metres, or `cap` if it is further. */
function boundaryDistance(i: i32, x: f64, y: f64, cap: f64): f64 {
  const kx = metresPerDegLon(y);
  if (fKind(i) == KIND_CIRCLE) return Math.min(cap, Math.abs(localMetres(fCircle(i, 0), fCircle(i, 1), x, y) - fCircle(i, 2)));
  const dy = cap / M_PER_DEG;
  if (x < fBox(i, 0) - cap / kx || x > fBox(i, 2) + cap / kx || y < fBox(i, 1) - dy || y > fBox(i, 3) + dy) return cap;
  let best = cap;
  const p0 = fFirstPart(i);
  for (let p = p0; p < p0 + fParts(i); p++) {
    const h = unchecked(fBandH[p]);
    const bands = unchecked(fBands[p]);
    const minY = unchecked(fMinY[p]);
    const b0 = clampBand(<i32>Math.floor((y - dy - minY) / h), bands);
    const b1 = clampBand(<i32>Math.floor((y + dy - minY) / h), bands);
    const at = unchecked(fSlabAt[p]);
    for (let b = b0; b <= b1; b++) {
      const end = unchecked(fSlabStart[at + b + 1]);
      for (let j = unchecked(fSlabStart[at + b]); j < end; j++) {
        const c = unchecked(fSlabEdges[j]);
        best = Math.min(best, snapToSegment((cx(c) - x) * kx, (cy(c) - y) * M_PER_DEG, (cx(c + 1) - x) * kx, (cy(c + 1) - y) * M_PER_DEG));
      }
    }
  }
  return best;
}

function insertAt<T>(a: Array<T>, k: i32, v: T): void {
  a.push(v);
  for (let j = a.length - 1; j > k; j--) unchecked((a[j] = a[j - 1]));
  unchecked((a[k] = v));
}

/** puts fence f on probation for the device, unless it is already */
function probation(d: Device, f: u32): void {
  for (let j = 0; j < d.pending.length; j++) if (unchecked(d.pending[j]).fence == f) return;
  const p = new Pending();
  p.fence = f;
  d.ownPending();
  d.pending.push(p);
}

// what settle() decided for each pending fence: keep waiting, drop (back on the old side), fire
const KEEP: u8 = 0;
const DROP: u8 = 1;
const FIRE_EXIT: u8 = 2;
const FIRE_ENTER: u8 = 3;
let verdicts = new Array<u8>(0);

/**
 * Debounced edges. A fence whose raw side differs from the confirmed one goes on probation, and each fix then
 * adds its signed distance to the boundary (positive on the new side) less the band to a CUSUM that never
 * drops below 0: far past the boundary counts fast, a fix wobbling about it counts against. The edge fires
 * once that sum reaches `evidence` and the new side has held `confirm`, both judged at a fix (no timers);
 * probation ends when the sum is back at 0 with the fix on the old side. A fix counts for at most half the
 * evidence, so no single fix (an outlier the guard let through) confirms alone. The event carries the
 * crossing estimate (dateCrossing). Exits before enters, as raw. `lastT`, `d.lon`, `d.lat`: the
 * device's last good fix before this one.
 */
function settle(d: Device, row: i32, t: f64, x: f64, y: f64, band: f64, lastT: f64): void {
  for (let j = 0; j < now.length; j++) if (!d.inside.includes(unchecked(now[j]))) probation(d, unchecked(now[j]));
  for (let j = 0; j < d.inside.length; j++) if (!now.includes(unchecked(d.inside[j]))) probation(d, unchecked(d.inside[j]));
  const n = d.pending.length;
  const cap = band + Math.max(evidence * 0.5, 1);
  verdicts.length = n;
  for (let j = 0; j < n; j++) {
    const p = unchecked(d.pending[j]);
    const f = p.fence;
    const wasIn = d.inside.includes(f);
    const newSide = now.includes(f) != wasIn;
    const dist = boundaryDistance(<i32>f, x, y, cap);
    p.e = Math.max(0, p.e + (newSide ? dist : -dist) - band);
    unchecked((verdicts[j] = KEEP));
    if (!newSide) {
      if (confirmRun) p.t0 = NaN;
      if (p.e == 0) unchecked((verdicts[j] = DROP));
      continue;
    }
    if (isNaN(p.t0)) {
      p.t0 = t;
      dateCrossing(p, lastT, d.lon, d.lat, t, x, y);
    }
    if (p.e > 0 && p.e >= evidence && t - p.t0 >= confirmMs) unchecked((verdicts[j] = wasIn ? FIRE_EXIT : FIRE_ENTER));
  }
  for (let j = 0; j < n; j++) {
    const p = unchecked(d.pending[j]);
    if (unchecked(verdicts[j]) != FIRE_EXIT) continue;
    const k = d.inside.indexOf(p.fence);
    if (wants(EXIT)) emitAt(row, p.fence, EXIT, p.tc, p.xc, p.yc);
    d.inside.splice(k, 1);
    d.since.splice(k, 1);
    d.dwelled.splice(k, 1);
  }
  for (let j = 0; j < n; j++) {
    const p = unchecked(d.pending[j]);
    if (unchecked(verdicts[j]) != FIRE_ENTER) continue;
    if (wants(ENTER)) emitAt(row, p.fence, ENTER, p.tc, p.xc, p.yc);
    // fence order, as raw state keeps it
    let k = 0;
    while (k < d.inside.length && unchecked(d.inside[k]) < p.fence) k++;
    d.ownFences();
    insertAt<u32>(d.inside, k, p.fence);
    insertAt<f64>(d.since, k, p.tc);
    insertAt<bool>(d.dwelled, k, false);
    // the fix that confirms an enter is not also `inside`, as in raw mode
    unchecked((occupied[p.fence] = stamp));
  }
  let kept = 0;
  for (let j = 0; j < n; j++) if (unchecked(verdicts[j]) == KEEP) d.pending[kept++] = unchecked(d.pending[j]);
  d.pending.length = kept;
}

/**
 * Dates the probation's new side: where the line from the last fix (lastT, lastX, lastY; on the old side) to
 * this one (the first on the new side) crosses the boundary, split in proportion to their distances to it. At
 * 1 s sampling that moves the date by under a second; after a dropout, or at 5 s sampling, by up to the gap,
 * which the first fix on the new side would otherwise put in the event as if the vehicle had just crossed.
 */
function dateCrossing(p: Pending, lastT: f64, lastX: f64, lastY: f64, t: f64, x: f64, y: f64): void {
  p.tc = t;
  p.xc = x;
  p.yc = y;
  if (!crossing || isNaN(lastT)) return;
  const span = localMetres(lastX, lastY, x, y);
  const before = boundaryDistance(<i32>p.fence, lastX, lastY, span);
  const after = boundaryDistance(<i32>p.fence, x, y, span);
  if (before + after == 0) return;
  const k = after / (before + after); // how far back from this fix towards the last
  p.tc = Math.round(t - k * (t - lastT)); // epoch ms, as every time the host reads
  p.xc = x - k * (x - lastX);
  p.yc = y - k * (y - lastY);
}

@inline function wants(kind: u32): bool { return (detect & (1 << kind)) != 0; }

let now = new Array<u32>(0);
// occupied[f] == stamp: fence f holds the device now or held it at its last fix (cheaper than includes())
let occupied = new StaticArray<u32>(0);
let stamp: u32 = 0;

/** Rows at `out`: row · fence · detect · at. The device column holds the host's stable ids. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  const tCol = colT(batch, n);
  const lonCol = colLon(batch, n);
  const latCol = colLat(batch, n);
  const accCol = colAccuracy(batch, n);
  const devCol = colDevice(batch, n);
  for (let row = 0; row < n; row++) {
    const t = load<f64>(tCol + (<usize>row << 3));
    const x = load<f64>(lonCol + (<usize>row << 3));
    const y = load<f64>(latCol + (<usize>row << 3));
    if (badCoordinates(x, y)) {
      skipped++;
      continue;
    }
    fixT = t;
    fixX = x;
    fixY = y;
    // fences containing the fix, in fence order
    now.length = 0;
    if (x >= gMinX && y >= gMinY) {
      const g = gy(y) * GRID + gx(x);
      const end = unchecked(gridStart[g + 1]);
      for (let j = unchecked(gridStart[g]); j < end; j++) {
        const f = unchecked(fGridFences[j]);
        if (contains(<i32>f, x, y)) now.push(f);
      }
    }
    if (containsMode) {
      for (let j = 0; j < now.length; j++) emit(row, now[j], INSIDE);
      continue;
    }
    const id = load<u32>(devCol + (<usize>row << 2));
    let d: Device;
    if (devices.has(id)) d = devices.get(id);
    else {
      d = new Device();
      devices.set(id, d);
    }
    if (isLate(d, t)) {
      skipped++;
      continue;
    }
    stamp++; // occupied[f] == stamp from here on: f was entered at this fix
    if (debounce) {
      const acc = <f64>load<f32>(accCol + (<usize>row << 2));
      const lastT = d.t;
      if (isOutlier(d, t, x, y, acc, maxSpeed)) {
        outliers++;
        continue;
      }
      if (d.pending.length > 0 || !sameSet(now, d.inside)) settle(d, row, t, x, y, hysteresis + (isNaN(acc) ? 0 : accuracyK * acc), lastT);
    } else {
      taken(d, t);
      // exits, then enters, then the rest, so a consumer replaying events sees a consistent state
      for (let j = 0; j < d.inside.length; j++) if (!now.includes(d.inside[j]) && wants(EXIT)) emit(row, d.inside[j], EXIT);
      for (let j = 0; j < now.length; j++) {
        if (d.inside.includes(now[j])) continue;
        unchecked((occupied[now[j]] = stamp));
        if (wants(ENTER)) emit(row, now[j], ENTER);
      }
    }
    // raw, the state before this fix; debounced, the state it confirmed
    const held = debounce ? d.inside : now;
    for (let j = 0; j < held.length; j++) {
      const f = held[j];
      const k = d.inside.indexOf(f);
      if (k < 0 || unchecked(occupied[f]) == stamp) continue;
      if (wants(INSIDE)) emit(row, f, INSIDE);
      if (!d.dwelled[k] && t - d.since[k] >= dwellMs) {
        d.dwelled[k] = true;
        if (wants(DWELL)) emit(row, f, DWELL);
      }
    }
    if (wants(CROSS) && !isNaN(d.lon)) {
      stamp++;
      for (let j = 0; j < now.length; j++) unchecked((occupied[now[j]] = stamp));
      for (let j = 0; j < d.inside.length; j++) unchecked((occupied[d.inside[j]] = stamp));
      for (let i = 0; i < nFences; i++) {
        if (unchecked(occupied[i]) != stamp && segmentTouches(i, d.lon, d.lat, x, y)) emit(row, <u32>i, CROSS);
      }
    }
    if (wants(OUTSIDE)) {
      stamp++;
      for (let j = 0; j < held.length; j++) unchecked((occupied[held[j]] = stamp));
      for (let i = 0; i < nFences; i++) if (unchecked(occupied[i]) != stamp) emit(row, <u32>i, OUTSIDE);
    }
    d.lon = x;
    d.lat = y;
    if (debounce || sameSet(now, d.inside)) continue; // the usual case: nothing entered or left, no state to rebuild
    // the new state: keep entry times and dwell flags of fences still occupied
    const inside = new Array<u32>(now.length);
    const since = new Array<f64>(now.length);
    const dwelled = new Array<bool>(now.length);
    for (let j = 0; j < now.length; j++) {
      const k = d.inside.indexOf(now[j]);
      inside[j] = now[j];
      since[j] = k < 0 ? t : d.since[k];
      dwelled[j] = k < 0 ? false : d.dwelled[k];
    }
    d.inside = inside;
    d.since = since;
    d.dwelled = dwelled;
  }
  return out.n;
}

/** both in fence order, so equal sets are equal arrays */
function sameSet(a: Array<u32>, b: Array<u32>): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) if (unchecked(a[i]) != unchecked(b[i])) return false;
  return true;
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
  return NaN;
}

// State: the counters, then per device u32 id · u32 fences · u32 pending · f64 lon · f64 lat · f64 t ·
// u32 refused · fences × (u32 fence · u32 dwelled · f64 since) · pending × (u32 fence · f64 e · f64 t0 ·
// f64 tc · f64 xc · f64 yc). Lets a spare continue after a trap with an enter or exit on probation still on
// probation; export_devices() writes the same per device (and nothing shared: no state of the kernel is
// about more than one device), so a partition's devices move to another instance the same way.

function writeDevice(w: StateWriter, d: Device): void {
  w.u32(d.inside.length);
  w.u32(d.pending.length);
  d.writeTrack(w);
  for (let j = 0; j < d.inside.length; j++) {
    w.u32(d.inside[j]);
    w.bool(d.dwelled[j]);
    w.f64(d.since[j]);
  }
  for (let j = 0; j < d.pending.length; j++) {
    const p = d.pending[j];
    w.u32(p.fence);
    w.f64(p.e);
    w.f64(p.t0);
    w.f64(p.tc);
    w.f64(p.xc);
    w.f64(p.yc);
  }
}

/** a device as writeDevice wrote it, or null (with the reason given to fail()) when it names a fence this kernel does not have */
function readDevice(r: StateReader): Device | null {
  const d = new Device();
  const n = r.u32();
  const pending = r.u32();
  d.readTrack(r);
  if (n) d.ownFences();
  if (pending) d.ownPending();
  for (let j: u32 = 0; j < n && r.ok; j++) {
    const f = r.u32();
    if (f >= <u32>nFences) return noFence();
    d.inside.push(f);
    d.dwelled.push(r.bool());
    d.since.push(r.f64());
  }
  for (let j: u32 = 0; j < pending && r.ok; j++) {
    const p = new Pending();
    p.fence = r.u32();
    if (p.fence >= <u32>nFences) return noFence();
    p.e = r.f64();
    p.t0 = r.f64();
    p.tc = r.f64();
    p.xc = r.f64();
    p.yc = r.f64();
    d.pending.push(p);
  }
  return d;
}

function noFence(): Device | null {
  fail('geofence state names a fence this kernel does not have');
  return null;
}

function writeState(w: StateWriter): void {
  w.u32(skipped);
  w.u32(out.lost);
  w.u32(outliers);
  const ids = devices.keys();
  w.u32(ids.length);
  for (let i = 0; i < ids.length; i++) {
    w.u32(ids[i]);
    writeDevice(w, devices.get(ids[i]));
  }
}

export function snapshot(ptr: usize, cap: i32): i32 {
  return writeSnapshot(ptr, cap, writeState);
}

export function restore(ptr: usize, len: i32): i32 {
  const r = new StateReader(ptr, ptr + <usize>len);
  const skippedThen = r.u32();
  const lostThen = r.u32();
  const outliersThen = r.u32();
  const count = r.u32();
  const next = new Map<u32, Device>();
  for (let i: u32 = 0; i < count && r.ok; i++) {
    const id = r.u32();
    const d = readDevice(r);
    if (d == null) return -1;
    next.set(id, d);
  }
  if (!r.done()) return fail('not a geofence snapshot: it ends early or goes on past its devices');
  skipped = skippedThen;
  out.lost = lostThen;
  outliers = outliersThen;
  devices = next;
  return 0;
}

export function export_devices(ids: usize, n: i32, ptr: usize, cap: i32): i32 {
  return writeDevices<Device>(devices, ids, n, ptr, cap, writeDevice);
}

/** adds or replaces the devices given, all or none */
export function import_devices(ptr: usize, len: i32): i32 {
  return readDevices<Device>(devices, ptr, len, readDevice, 'geofence');
}

export function drop_devices(ids: usize, n: i32): i32 {
  return dropFrom<Device>(devices, ids, n);
}
