// mapmatch: Newson & Krumm hidden-Markov map matching, online, with a fixed lag (docs/map-matching.md).
//
// Each fix gets candidate road positions within `radius` metres (at most `k`, from the segment grid of the
// graph file). Emission: Gaussian in the fix-to-road distance (`sigma`). Transition: exponential in
// |route distance − great-circle distance| (`beta`), the route distance from a Dijkstra search bounded by
// `routeFactor` × the great-circle distance + 2·radius that stops once every target is settled.
// Per device, the last `lag` fixes stay pending; each new fix reruns Viterbi over them from the last
// committed position (lag·k² steps, trivial next to the searches) and the oldest is committed. A fix that
// no road position can reach restarts the chain there, so memory per device stays fixed.
import { badCoordinates, colDevice, colLat, colLon, colSpeed, colT, fail, jsonNumber, Output } from './abi';
export { abi_version, alloc, error_len, error_ptr, free } from './abi';

const KIND_MATCHED: u32 = 1;
const KIND_UNMATCHED: u32 = 2;
const KIND_TRAVERSAL: u32 = 3;
const KIND_PARTIAL: u32 = 4;
const NO_EDGE: u32 = 0xffffffff;
const M_PER_DEG: f64 = 111320;
const R_EARTH: f64 = 6371008.8;
const INF: f64 = Infinity;
const MAX_K: i32 = 32;

// ---- the road graph, read in place from the graph file (network/graph-file.ts, version 2)
let nodes: i32 = 0;
let edges: i32 = 0;
let edgeFrom: usize = 0;
let edgeTo: usize = 0;
let edgeLength: usize = 0;
let pointStart: usize = 0;
let pointLon: usize = 0;
let pointLat: usize = 0;
let ixMinLon: f64 = 0;
let ixMinLat: f64 = 0;
let ixCellLon: f64 = 1;
let ixCellLat: f64 = 1;
let ixW: i32 = 0;
let ixH: i32 = 0;
let cellStart: usize = 0;
let segEdge: usize = 0;
let segPoint: usize = 0;
// built at load: out-edges per node, and metres along its edge at each shape point
let outStart = new StaticArray<u32>(0);
let outEdge = new StaticArray<u32>(0);
let pointCum = new StaticArray<f64>(0);

@inline function from(e: i32): i32 { return <i32>load<u32>(edgeFrom + (<usize>e << 2)); }
@inline function to(e: i32): i32 { return <i32>load<u32>(edgeTo + (<usize>e << 2)); }
@inline function len(e: i32): f64 { return <f64>load<f32>(edgeLength + (<usize>e << 2)); }
@inline function pStart(e: i32): i32 { return <i32>load<u32>(pointStart + (<usize>e << 2)); }
@inline function pLon(p: i32): f64 { return load<f64>(pointLon + (<usize>p << 3)); }
@inline function pLat(p: i32): f64 { return load<f64>(pointLat + (<usize>p << 3)); }

function haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64): f64 {
  const r = Math.PI / 180;
  const s1 = Math.sin(((lat2 - lat1) * r) / 2);
  const s2 = Math.sin(((lon2 - lon1) * r) / 2);
  const a = s1 * s1 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * s2 * s2;
  return 2 * R_EARTH * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Takes the graph file's bytes; the kernel keeps reading them in place. */
export function load_data(ptr: usize, size: i32): i32 {
  if (size < 24 || load<u32>(ptr) != 0x47524647) return fail('road graph: not a geoflux road graph file');
  if (load<u32>(ptr + 4) != 2) return fail('road graph: file version ' + load<u32>(ptr + 4).toString() + ' is not 2');
  if (load<u32>(ptr + 8) > 1 << 28 || load<u32>(ptr + 12) > 1 << 28 || load<u32>(ptr + 16) > 1 << 28) return fail('road graph: counts too large');
  const n = <i32>load<u32>(ptr + 8);
  const e = <i32>load<u32>(ptr + 12);
  const p = <i32>load<u32>(ptr + 16);
  const refs = load<u32>(ptr + 20);
  // sizes in 64 bits: counts from a bad file must not wrap around and pass the length checks
  const size64 = <u64>size;
  let at: u64 = 24;
  const widths: StaticArray<u64> = [8 * <u64>n, 8 * <u64>n, 4 * <u64>e, 4 * <u64>e, 8 * <u64>e, <u64>e, 4 * <u64>e, 4 * <u64>e, 4 * (<u64>e + 1), 8 * <u64>p, 8 * <u64>p, 32, 8];
  const starts = new StaticArray<usize>(widths.length + 3);
  for (let i = 0; i < widths.length; i++) {
    at = (at + 7) & ~(<u64>7);
    starts[i] = ptr + <usize>at;
    at += widths[i];
    if (at > size64) return fail('road graph: file cut short');
  }
  const ixHeader = starts[11];
  ixMinLon = load<f64>(ixHeader);
  ixMinLat = load<f64>(ixHeader + 8);
  ixCellLon = load<f64>(ixHeader + 16);
  ixCellLat = load<f64>(ixHeader + 24);
  ixW = <i32>load<u32>(starts[12]);
  ixH = <i32>load<u32>(starts[12] + 4);
  if (!(ixCellLon > 0) || !(ixCellLat > 0) || ixW <= 0 || ixH <= 0 || <i64>ixW * <i64>ixH > 1 << 26) return fail('road graph: bad segment index header');
  const indexWidths: StaticArray<u64> = [4 * (<u64>ixW * <u64>ixH + 1), 4 * <u64>refs, 4 * <u64>refs];
  for (let i = 0; i < 3; i++) {
    at = (at + 7) & ~(<u64>7);
    starts[13 + i] = ptr + <usize>at;
    at += indexWidths[i];
    if (at > size64) return fail('road graph: file cut short in the segment index');
  }
  cellStart = starts[13];
  segEdge = starts[14];
  segPoint = starts[15];
  nodes = n;
  edges = e;
  edgeFrom = starts[2];
  edgeTo = starts[3];
  edgeLength = starts[7];
  pointStart = starts[8];
  pointLon = starts[9];
  pointLat = starts[10];
  // every index the searches follow is checked once here, so bad bytes fail now rather than trap later
  for (let i = 0; i < e; i++) {
    if (<u32>from(i) >= <u32>n || <u32>to(i) >= <u32>n) return fail('road graph: edge ' + i.toString() + ' names a node that does not exist');
    if (pStart(i) < 0 || pStart(i) > pStart(i + 1) || pStart(i + 1) - pStart(i) < 2) return fail('road graph: edge ' + i.toString() + ' has a bad shape');
  }
  if (<u32>pStart(e) > <u32>p) return fail('road graph: shape points out of range');
  const cells = ixW * ixH;
  for (let c = 0; c < cells; c++) if (load<u32>(cellStart + (<usize>c << 2)) > load<u32>(cellStart + (<usize>(c + 1) << 2))) return fail('road graph: bad segment index');
  if (load<u32>(cellStart + (<usize>cells << 2)) > refs) return fail('road graph: bad segment index');
  for (let j: u32 = 0; j < refs; j++) {
    const se = load<u32>(segEdge + (<usize>j << 2));
    const sp = load<u32>(segPoint + (<usize>j << 2));
    if (se >= <u32>e || sp < <u32>pStart(se) || sp + 1 >= <u32>pStart(se + 1)) return fail('road graph: bad segment index entry');
  }
  outStart = new StaticArray<u32>(n + 1);
  for (let i = 0; i < e; i++) outStart[from(i) + 1]++;
  for (let i = 0; i < n; i++) outStart[i + 1] += outStart[i];
  outEdge = new StaticArray<u32>(e);
  const fill = new StaticArray<u32>(n);
  for (let i = 0; i < e; i++) {
    const f = from(i);
    outEdge[outStart[f] + fill[f]++] = i;
  }
  pointCum = new StaticArray<f64>(p);
  for (let i = 0; i < e; i++) {
    const a = pStart(i);
    pointCum[a] = 0;
    for (let q = a + 1; q < pStart(i + 1); q++) pointCum[q] = pointCum[q - 1] + haversine(pLon(q - 1), pLat(q - 1), pLon(q), pLat(q));
  }
  dist = new StaticArray<f64>(n);
  via = new StaticArray<i32>(n);
  seen = new StaticArray<u32>(n);
  done = new StaticArray<u32>(n);
  heapD = new StaticArray<f64>(e + 2);
  heapN = new StaticArray<i32>(e + 2);
  edgeSlot = new StaticArray<i32>(e);
  edgeSeen = new StaticArray<u32>(e);
  devices.clear();
  return 0;
}

// ---- params
let sigma: f64 = 5;
let radius: f64 = 50;
let K: i32 = 16;
let beta: f64 = 1;
let lag: i32 = 5;
let lagMs: f64 = 0;
let maxGapMs: f64 = 60000;
let routeFactor: f64 = 2;
let backTolerance: f64 = 10;
let idleMs: f64 = 300000;
let stationary: f64 = 10;

export function init(ptr: usize, size: i32): i32 {
  if (edges == 0) return fail('no road graph: call load_data first');
  const json = String.UTF8.decodeUnsafe(ptr, size);
  sigma = jsonNumber(json, 'sigma', 5);
  radius = jsonNumber(json, 'radius', 50);
  K = <i32>jsonNumber(json, 'k', 16);
  beta = jsonNumber(json, 'beta', 1);
  lag = <i32>jsonNumber(json, 'lag', 5);
  lagMs = jsonNumber(json, 'lagSeconds', 0) * 1000;
  maxGapMs = jsonNumber(json, 'maxGap', 60) * 1000;
  routeFactor = jsonNumber(json, 'routeFactor', 2);
  backTolerance = jsonNumber(json, 'backTolerance', 2 * sigma);
  idleMs = jsonNumber(json, 'idle', 300) * 1000;
  stationary = jsonNumber(json, 'stationary', 2 * sigma);
  if (!(sigma > 0)) return fail('sigma must be a positive number of metres');
  if (!(radius > 0) || radius > 1000) return fail('radius must be between 0 and 1000 metres');
  if (K < 1 || K > MAX_K) return fail('k must be between 1 and ' + MAX_K.toString());
  if (!(beta > 0)) return fail('beta must be a positive number of metres');
  if (lag < 0 || lag > 100) return fail('lag must be between 0 and 100 fixes');
  if (!(lagMs >= 0) || !(maxGapMs > 0) || !(idleMs > 0)) return fail('lagSeconds, maxGap and idle must be positive seconds');
  if (!(routeFactor >= 1)) return fail('routeFactor must be at least 1');
  if (!(backTolerance >= 0)) return fail('backTolerance must be zero or more metres');
  devices.clear();
  skipped = outOfOrder = 0;
  out.lost = 0;
  now = -INF;
  lastSweep = -INF;
  return 0;
}

// ---- candidates: the nearest position on each edge within `radius`, nearest first, at most K
let edgeSlot = new StaticArray<i32>(0);
let edgeSeen = new StaticArray<u32>(0);
let query: u32 = 0;
const MAX_FOUND: i32 = 512;
const foundEdge = new StaticArray<i32>(MAX_FOUND);
const foundDist = new StaticArray<f64>(MAX_FOUND);
const foundOff = new StaticArray<f64>(MAX_FOUND);
const foundLon = new StaticArray<f64>(MAX_FOUND);
const foundLat = new StaticArray<f64>(MAX_FOUND);
let found: i32 = 0;

function candidates(lon: f64, lat: f64): void {
  found = 0;
  query++;
  const kx = M_PER_DEG * Math.cos((lat * Math.PI) / 180);
  const rx = <i32>Math.ceil(radius / (ixCellLon * kx));
  const ry = <i32>Math.ceil(radius / (ixCellLat * M_PER_DEG));
  const cx = <i32>Math.floor((lon - ixMinLon) / ixCellLon);
  const cy = <i32>Math.floor((lat - ixMinLat) / ixCellLat);
  if (cx + rx < 0 || cy + ry < 0 || cx - rx >= ixW || cy - ry >= ixH) return;
  const y1 = min(ixH - 1, cy + ry);
  const x1 = min(ixW - 1, cx + rx);
  for (let y = max(0, cy - ry); y <= y1; y++) {
    for (let x = max(0, cx - rx); x <= x1; x++) {
      const c = y * ixW + x;
      const j1 = load<u32>(cellStart + (<usize>(c + 1) << 2));
      for (let j = load<u32>(cellStart + (<usize>c << 2)); j < j1; j++) {
        const e = <i32>load<u32>(segEdge + (<usize>j << 2));
        const p = <i32>load<u32>(segPoint + (<usize>j << 2));
        // project onto the segment in a local metric frame centred on the fix
        const ax = (pLon(p) - lon) * kx;
        const ay = (pLat(p) - lat) * M_PER_DEG;
        const dx = (pLon(p + 1) - lon) * kx - ax;
        const dy = (pLat(p + 1) - lat) * M_PER_DEG - ay;
        const len2 = dx * dx + dy * dy;
        const t = len2 > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2)) : 0;
        const px = ax + t * dx;
        const py = ay + t * dy;
        const d = Math.sqrt(px * px + py * py);
        if (d > radius) continue;
        let slot = edgeSeen[e] == query ? edgeSlot[e] : -1;
        if (slot >= 0 && foundDist[slot] <= d) continue;
        if (slot < 0) {
          if (found == MAX_FOUND) continue;
          slot = found++;
          edgeSeen[e] = query;
          edgeSlot[e] = slot;
        }
        const sLon = lon + px / kx;
        const sLat = lat + py / M_PER_DEG;
        foundEdge[slot] = e;
        foundDist[slot] = d;
        foundLon[slot] = sLon;
        foundLat[slot] = sLat;
        // measured like edge lengths (haversine along the shape), so offsets and lengths agree
        foundOff[slot] = Math.min(len(e), pointCum[p] + haversine(pLon(p), pLat(p), sLon, sLat));
      }
    }
  }
  // the K nearest to the front (insertion sort: `found` is small)
  for (let i = 1; i < found; i++) {
    const e = foundEdge[i], d = foundDist[i], o = foundOff[i], lo = foundLon[i], la = foundLat[i];
    let j = i - 1;
    while (j >= 0 && foundDist[j] > d) {
      foundEdge[j + 1] = foundEdge[j];
      foundDist[j + 1] = foundDist[j];
      foundOff[j + 1] = foundOff[j];
      foundLon[j + 1] = foundLon[j];
      foundLat[j + 1] = foundLat[j];
      j--;
    }
    foundEdge[j + 1] = e;
    foundDist[j + 1] = d;
    foundOff[j + 1] = o;
    foundLon[j + 1] = lo;
    foundLat[j + 1] = la;
  }
  if (found > K) found = K;
}

// ---- bounded Dijkstra from one node that stops once its targets are settled
let dist = new StaticArray<f64>(0);
let via = new StaticArray<i32>(0);
let seen = new StaticArray<u32>(0);
let done = new StaticArray<u32>(0);
let heapD = new StaticArray<f64>(0);
let heapN = new StaticArray<i32>(0);
let heapSize: i32 = 0;
let search: u32 = 0;
let settledCount: u64 = 0;

function heapPush(d: f64, n: i32): void {
  let i = heapSize++;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heapD[parent] <= d) break;
    heapD[i] = heapD[parent];
    heapN[i] = heapN[parent];
    i = parent;
  }
  heapD[i] = d;
  heapN[i] = n;
}

/** removes the top; its node and distance were read by the caller */
function heapPop(): void {
  const last = --heapSize;
  const d = heapD[last];
  const n = heapN[last];
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= last) break;
    if (c + 1 < last && heapD[c + 1] < heapD[c]) c++;
    if (heapD[c] >= d) break;
    heapD[i] = heapD[c];
    heapN[i] = heapN[c];
    i = c;
  }
  heapD[i] = d;
  heapN[i] = n;
}

const targets = new StaticArray<i32>(MAX_K);
let targetCount: i32 = 0;

/** Settles nodes from `src` until every target is settled or the next is farther than `limit`. */
function dijkstra(src: i32, limit: f64): void {
  search++;
  heapSize = 0;
  seen[src] = search;
  dist[src] = 0;
  via[src] = -1;
  heapPush(0, src);
  let left = targetCount;
  while (heapSize > 0) {
    const d = heapD[0];
    const u = heapN[0];
    heapPop();
    if (done[u] == search) continue;
    if (d > limit) break;
    done[u] = search;
    settledCount++;
    for (let i = 0; i < targetCount; i++) if (targets[i] == u) left--;
    if (left <= 0) break;
    for (let j = outStart[u]; j < outStart[u + 1]; j++) {
      const e = <i32>outEdge[j];
      const v = to(e);
      const nd = d + len(e);
      if (nd > limit || done[v] == search) continue;
      if (seen[v] != search || nd < dist[v]) {
        seen[v] = search;
        dist[v] = nd;
        via[v] = e;
        heapPush(nd, v);
      }
    }
  }
}

@inline function settled(n: i32): f64 { return done[n] == search ? dist[n] : INF; }

// ---- per-device state
class Device {
  lastT: f64 = -Infinity;
  // the last committed position (the anchor) and the edge it is on
  anchored: bool = false;
  aEdge: i32 = 0;
  aOff: f64 = 0;
  aT: f64 = 0;
  /** the anchor's index among its column's candidates: rows of the next column's routes are indexed by it */
  aRow: i32 = 0;
  aLon: f64 = 0;
  aLat: f64 = 0;
  enterT: f64 = 0;
  enterOff: f64 = 0;
  // pending columns, a ring of lag + 1
  head: i32 = 0;
  count: i32 = 0;
  cap: i32;
  t: StaticArray<f64>;
  lon: StaticArray<f64>;
  lat: StaticArray<f64>;
  reported: StaticArray<f64>;
  gc: StaticArray<f64>;
  /** no link to what came before: the chain restarts at this column */
  restart: StaticArray<bool>;
  /** within 2σ of the last fix: not a step of its own (N&K's stationary filter); it takes that fix's match */
  stay: StaticArray<bool>;
  /** routes come from the anchor rather than the previous pending column */
  fromAnchor: StaticArray<bool>;
  nc: StaticArray<i32>;
  cEdge: StaticArray<i32>;
  cOff: StaticArray<f64>;
  cLon: StaticArray<f64>;
  cLat: StaticArray<f64>;
  cEmit: StaticArray<f64>;
  /** metres from candidate a of the previous non-empty column to candidate b of this one, INF if none */
  route: StaticArray<f32>;
  // where the last non-empty column's fix was, for great-circle distances
  linked: bool = false;
  linkLon: f64 = 0;
  linkLat: f64 = 0;
  linkT: f64 = 0;

  constructor(cap: i32) {
    this.cap = cap;
    this.t = new StaticArray<f64>(cap);
    this.lon = new StaticArray<f64>(cap);
    this.lat = new StaticArray<f64>(cap);
    this.reported = new StaticArray<f64>(cap);
    this.gc = new StaticArray<f64>(cap);
    this.restart = new StaticArray<bool>(cap);
    this.fromAnchor = new StaticArray<bool>(cap);
    this.stay = new StaticArray<bool>(cap);
    this.nc = new StaticArray<i32>(cap);
    this.cEdge = new StaticArray<i32>(cap * K);
    this.cOff = new StaticArray<f64>(cap * K);
    this.cLon = new StaticArray<f64>(cap * K);
    this.cLat = new StaticArray<f64>(cap * K);
    this.cEmit = new StaticArray<f64>(cap * K);
    this.route = new StaticArray<f32>(cap * K * K);
  }

  @inline slot(i: i32): i32 { return (this.head + i) % this.cap; }
}

const devices = new Map<u32, Device>();
const out = new Output();
let skipped: u32 = 0;
let outOfOrder: u32 = 0;
/** the stream's clock: the latest fix time seen */
let now: f64 = -Infinity;
let lastSweep: f64 = -Infinity;

@inline function emission(d: f64): f64 { return -0.5 * (d / sigma) * (d / sigma); }

/**
 * Route metres from a candidate (edge ea at oa) to another (eb at ob), given a search from to(ea). A small
 * step backwards on one edge (noise while stopped) is a negative route, so |route − great circle| charges it
 * twice its length and a wrong-way one-way street stays expensive.
 */
function routeBetween(ea: i32, oa: f64, eb: i32, ob: f64): f64 {
  if (ea == eb && ob >= oa - backTolerance) return ob - oa;
  const d = settled(from(eb));
  return d == INF ? INF : len(ea) - oa + d + ob;
}

/** Fills column `s`'s routes from the previous non-empty column (or the anchor). */
function linkColumn(dev: Device, s: i32, prev: i32, fromAnchor: bool): bool {
  const nb = dev.nc[s];
  const base = s * K * K;
  for (let i = 0; i < K * K; i++) dev.route[base + i] = <f32>INF;
  targetCount = 0;
  for (let b = 0; b < nb; b++) {
    const n = from(dev.cEdge[s * K + b]);
    let known = false;
    for (let i = 0; i < targetCount; i++) if (targets[i] == n) known = true;
    if (!known) targets[targetCount++] = n;
  }
  const limit = routeFactor * dev.gc[s] + 2 * radius;
  let any = false;
  const a0 = fromAnchor ? dev.aRow : 0;
  const a1 = fromAnchor ? dev.aRow + 1 : dev.nc[prev];
  let lastSrc = -1;
  for (let a = a0; a < a1; a++) {
    const ea = fromAnchor ? dev.aEdge : dev.cEdge[prev * K + a];
    const oa = fromAnchor ? dev.aOff : dev.cOff[prev * K + a];
    const src = to(ea);
    if (src != lastSrc) {
      dijkstra(src, limit);
      lastSrc = src;
    }
    for (let b = 0; b < nb; b++) {
      const r = routeBetween(ea, oa, dev.cEdge[s * K + b], dev.cOff[s * K + b]);
      if (r <= limit) {
        dev.route[base + a * K + b] = <f32>r;
        any = true;
      }
    }
  }
  return any;
}

function addFix(dev: Device, id: u32, t: f64, lon: f64, lat: f64, reported: f64): void {
  if (dev.count == dev.cap) commitOldest(dev, id);
  const s = dev.slot(dev.count++);
  dev.t[s] = t;
  dev.lon[s] = lon;
  dev.lat[s] = lat;
  dev.reported[s] = reported;
  // a fix this close to the last one tells more about noise than about movement: matching it on its own
  // lets jitter at a junction invent a U-turn into a side street
  dev.stay[s] = dev.linked && t - dev.linkT <= maxGapMs && haversine(dev.linkLon, dev.linkLat, lon, lat) < stationary;
  if (dev.stay[s]) {
    dev.nc[s] = 0;
    dev.linkT = t;
    return;
  }
  candidates(lon, lat);
  dev.nc[s] = found;
  for (let b = 0; b < found; b++) {
    dev.cEdge[s * K + b] = foundEdge[b];
    dev.cOff[s * K + b] = foundOff[b];
    dev.cLon[s * K + b] = foundLon[b];
    dev.cLat[s * K + b] = foundLat[b];
    dev.cEmit[s * K + b] = emission(foundDist[b]);
  }
  if (found == 0) return;
  let restart = !dev.linked || t - dev.linkT > maxGapMs;
  let prev = -1;
  for (let i = dev.count - 2; i >= 0 && prev < 0; i--) if (dev.nc[dev.slot(i)] > 0) prev = dev.slot(i);
  const fromAnchor = prev < 0;
  if (fromAnchor && !dev.anchored) restart = true;
  dev.gc[s] = restart ? 0 : haversine(dev.linkLon, dev.linkLat, lon, lat);
  if (!restart) restart = !linkColumn(dev, s, prev, fromAnchor);
  dev.restart[s] = restart;
  dev.fromAnchor[s] = fromAnchor;
  dev.linked = true;
  dev.linkLon = lon;
  dev.linkLat = lat;
  dev.linkT = t;
}

// Viterbi scratch over the pending columns
const score = new StaticArray<f64>(102 * MAX_K);
const back = new StaticArray<i32>(102 * MAX_K);
const choice = new StaticArray<i32>(102);

/** The most likely candidate of every pending column, given the anchor (choice -1 for empty columns). */
function viterbi(dev: Device): void {
  let prev = -1; // pending index of the previous non-empty column
  for (let i = 0; i < dev.count; i++) {
    const s = dev.slot(i);
    const nb = dev.nc[s];
    choice[i] = -1;
    if (nb == 0) continue;
    let restart = dev.restart[s];
    if (!restart) {
      let any = false;
      for (let b = 0; b < nb; b++) {
        let best = -INF;
        let arg = -1;
        const a0 = dev.fromAnchor[s] ? dev.aRow : 0;
        const a1 = dev.fromAnchor[s] ? dev.aRow + 1 : dev.nc[dev.slot(prev)];
        for (let a = a0; a < a1; a++) {
          const r = <f64>dev.route[s * K * K + a * K + b];
          if (r == INF) continue;
          const sc = (dev.fromAnchor[s] ? 0 : score[prev * MAX_K + a]) - Math.abs(r - dev.gc[s]) / beta;
          if (sc > best) {
            best = sc;
            arg = a;
          }
        }
        score[i * MAX_K + b] = best + dev.cEmit[s * K + b];
        back[i * MAX_K + b] = arg;
        if (arg >= 0) any = true;
      }
      // what was reachable only through candidates the anchor ruled out: start over here
      restart = !any;
    }
    if (restart) {
      for (let b = 0; b < nb; b++) {
        score[i * MAX_K + b] = dev.cEmit[s * K + b];
        back[i * MAX_K + b] = -1;
      }
    }
    prev = i;
  }
  // backtrack; at a restart, the column before it picks its own best
  let follow = -1;
  for (let i = dev.count - 1; i >= 0; i--) {
    const nb = dev.nc[dev.slot(i)];
    if (nb == 0) continue;
    let c = follow;
    if (c < 0) {
      let best = -INF;
      for (let b = 0; b < nb; b++) if (score[i * MAX_K + b] > best) (best = score[i * MAX_K + b]), (c = b);
    }
    choice[i] = c;
    follow = back[i * MAX_K + c];
  }
}

// ---- output rows: t f64 · t2 f64 · lon f64 · lat f64 · rawLon f64 · rawLat f64 · offset f64 · speed f64 ·
//      kind u32 · device u32 · edge u32, each a column of `cap`
function row(kind: u32, id: u32, edge: u32, t: f64, t2: f64, lon: f64, lat: f64, rawLon: f64, rawLat: f64, offset: f64, speed: f64): void {
  const i = out.next();
  if (i < 0) return;
  const cap = <usize>out.cap;
  const at = out.ptr + (<usize>i << 3);
  store<f64>(at, t);
  store<f64>(at + cap * 8, t2);
  store<f64>(at + cap * 16, lon);
  store<f64>(at + cap * 24, lat);
  store<f64>(at + cap * 32, rawLon);
  store<f64>(at + cap * 40, rawLat);
  store<f64>(at + cap * 48, offset);
  store<f64>(at + cap * 56, speed);
  const at4 = out.ptr + cap * 64 + (<usize>i << 2);
  store<u32>(at4, kind);
  store<u32>(at4 + cap * 4, id);
  store<u32>(at4 + cap * 8, edge);
}

/** the edge the device is on is left at `exitT`, `exitOff` metres along it */
function leaveEdge(dev: Device, id: u32, exitT: f64, exitOff: f64, complete: bool): void {
  const metres = exitOff - dev.enterOff;
  // entered and left at the same point (a chain that began at a node): nothing was driven
  if (metres < 0.5) return;
  const secs = (exitT - dev.enterT) / 1000;
  row(complete ? KIND_TRAVERSAL : KIND_PARTIAL, id, dev.aEdge, exitT, dev.enterT, NaN, NaN, NaN, NaN, metres, secs > 0 ? metres / secs : NaN);
}

const path = new StaticArray<i32>(4096);

function commitOldest(dev: Device, id: u32): void {
  viterbi(dev);
  const s = dev.slot(0);
  const c = choice[0];
  const t = dev.t[s];
  if (dev.stay[s] && dev.anchored) {
    row(KIND_MATCHED, id, dev.aEdge, t, NaN, dev.aLon, dev.aLat, dev.lon[s], dev.lat[s], dev.aOff, isNaN(dev.reported[s]) ? 0 : dev.reported[s]);
  } else if (c < 0) {
    row(KIND_UNMATCHED, id, NO_EDGE, t, NaN, dev.lon[s], dev.lat[s], dev.lon[s], dev.lat[s], NaN, dev.reported[s]);
  } else {
    const e = dev.cEdge[s * K + c];
    const off = dev.cOff[s * K + c];
    const r = dev.restart[s] || !dev.fromAnchor[s] ? INF : <f64>dev.route[s * K * K + dev.aRow * K + c];
    let speed = dev.reported[s];
    if (r == INF) {
      if (dev.anchored) leaveEdge(dev, id, dev.aT, dev.aOff, false);
      dev.enterT = t;
      dev.enterOff = off;
    } else {
      const secs = (t - dev.aT) / 1000;
      if (secs > 0) speed = Math.abs(r) / secs;
      if (!(dev.aEdge == e && off >= dev.aOff - backTolerance)) {
        // the edges between: search again (the transition's search is long gone) and share out the time
        targetCount = 1;
        targets[0] = from(e);
        dijkstra(to(dev.aEdge), r + 1);
        let n = 0;
        if (done[from(e)] == search) for (let v = from(e); v != to(dev.aEdge) && n < path.length; v = from(via[v])) path[n++] = via[v];
        const perMetre = r > 0 ? (t - dev.aT) / r : 0;
        let at = dev.aT + (len(dev.aEdge) - dev.aOff) * perMetre;
        leaveEdge(dev, id, at, len(dev.aEdge), dev.enterOff == 0);
        for (let j = n - 1; j >= 0; j--) {
          const pe = path[j];
          const next = at + len(pe) * perMetre;
          dev.aEdge = pe;
          dev.enterT = at;
          dev.enterOff = 0;
          leaveEdge(dev, id, next, len(pe), true);
          at = next;
        }
        dev.enterT = at;
        dev.enterOff = 0;
      }
    }
    row(KIND_MATCHED, id, e, t, NaN, dev.cLon[s * K + c], dev.cLat[s * K + c], dev.lon[s], dev.lat[s], off, speed);
    dev.anchored = true;
    dev.aEdge = e;
    dev.aOff = off;
    dev.aT = t;
    dev.aRow = c;
    dev.aLon = dev.cLon[s * K + c];
    dev.aLat = dev.cLat[s * K + c];
  }
  dev.head = (dev.head + 1) % dev.cap;
  dev.count--;
  // the next non-empty column's routes were computed from this one, which is now the anchor
  for (let i = 0; i < dev.count; i++) {
    const si = dev.slot(i);
    if (dev.nc[si] > 0) {
      if (c >= 0) dev.fromAnchor[si] = true;
      break;
    }
  }
}

/** Commits everything pending and ends the chain (end of input, or an idle device). */
function flushDevice(dev: Device, id: u32): void {
  while (dev.count > 0) commitOldest(dev, id);
  if (dev.anchored) leaveEdge(dev, id, dev.aT, dev.aOff, false);
  dev.anchored = false;
  dev.linked = false;
}

/** Map-matches a batch; returns how many rows (matched fixes, unmatched fixes, edge traversals) it wrote. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  if (edges == 0) return fail('no road graph: call load_data first');
  const tCol = colT(batch, n);
  const lonCol = colLon(batch, n);
  const latCol = colLat(batch, n);
  const speedCol = colSpeed(batch, n);
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
    else devices.set(id, (dev = new Device(lag + 1)));
    if (t <= dev.lastT) {
      outOfOrder++;
      continue;
    }
    dev.lastT = t;
    if (t > now) now = t;
    addFix(dev, id, t, lon, lat, <f64>load<f32>(speedCol + (<usize>i << 2)));
    if (dev.count > lag) commitOldest(dev, id);
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
    if (lagMs > 0) while (dev.count > 0 && now - dev.t[dev.slot(0)] >= lagMs) commitOldest(dev, id);
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
