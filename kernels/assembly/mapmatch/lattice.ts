// Per device: the pending fixes (a ring of lag + 1 columns of candidates and the routes between them),
// Viterbi over them from the last committed position, and the commit of the oldest.
import { haversine } from '../geo';
import { candidates, found, foundDist, foundEdge, foundLat, foundLon, foundOff } from './candidates';
import { from, to } from './graph';
import { emission, routeBetween } from './model';
import { beta, K, maxGapMs, MAX_K, radius, routeFactor, stationary } from './params';
import { addTarget, clearTargets, dijkstra } from './route';
import { advance, endTrack, stayRow, Track, unmatchedRow } from './traversals';

export class Device {
  lastT: f64 = -Infinity;
  /** the last committed position */
  track: Track = new Track();
  /** the committed position's index among its column's candidates: rows of the next column's routes are indexed by it */
  aRow: i32 = 0;
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
  /** within `stationary` of the last fix: not a step of its own (N&K's stationary filter); it takes that fix's match */
  stay: StaticArray<bool>;
  /** routes come from the committed position rather than the previous pending column */
  fromAnchor: StaticArray<bool>;
  nc: StaticArray<i32>;
  cEdge: StaticArray<i32>;
  cOff: StaticArray<f64>;
  cLon: StaticArray<f64>;
  cLat: StaticArray<f64>;
  cEmit: StaticArray<f64>;
  /** metres from candidate a of the previous non-empty column to candidate b of this one, Infinity if none */
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

/** Fills column `s`'s routes from the previous non-empty column (or the committed position). */
function linkColumn(dev: Device, s: i32, prev: i32, fromAnchor: bool): bool {
  const nb = dev.nc[s];
  const base = s * K * K;
  for (let i = 0; i < K * K; i++) dev.route[base + i] = <f32>Infinity;
  clearTargets();
  for (let b = 0; b < nb; b++) addTarget(from(dev.cEdge[s * K + b]));
  const limit = routeFactor * dev.gc[s] + 2 * radius;
  let any = false;
  const a0 = fromAnchor ? dev.aRow : 0;
  const a1 = fromAnchor ? dev.aRow + 1 : dev.nc[prev];
  let lastSrc = -1;
  for (let a = a0; a < a1; a++) {
    const ea = fromAnchor ? dev.track.edge : dev.cEdge[prev * K + a];
    const oa = fromAnchor ? dev.track.off : dev.cOff[prev * K + a];
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

/** Adds a fix to the device's pending columns, committing the oldest first when they are full. */
export function addFix(dev: Device, id: u32, t: f64, lon: f64, lat: f64, reported: f64): void {
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
  if (fromAnchor && !dev.track.on) restart = true;
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

/** The most likely candidate of every pending column, given the committed position (choice -1 for empty columns). */
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
        let best = -Infinity;
        let arg = -1;
        const a0 = dev.fromAnchor[s] ? dev.aRow : 0;
        const a1 = dev.fromAnchor[s] ? dev.aRow + 1 : dev.nc[dev.slot(prev)];
        for (let a = a0; a < a1; a++) {
          const r = <f64>dev.route[s * K * K + a * K + b];
          if (r == Infinity) continue;
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
      // what was reachable only through candidates the committed position ruled out: start over here
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
      let best = -Infinity;
      for (let b = 0; b < nb; b++) if (score[i * MAX_K + b] > best) (best = score[i * MAX_K + b]), (c = b);
    }
    choice[i] = c;
    follow = back[i * MAX_K + c];
  }
}

export function commitOldest(dev: Device, id: u32): void {
  viterbi(dev);
  const s = dev.slot(0);
  const c = choice[0];
  const t = dev.t[s];
  if (dev.stay[s] && dev.track.on) {
    stayRow(dev.track, id, t, dev.lon[s], dev.lat[s], dev.reported[s]);
  } else if (c < 0) {
    unmatchedRow(id, t, dev.lon[s], dev.lat[s], dev.reported[s]);
  } else {
    const r = dev.restart[s] || !dev.fromAnchor[s] ? Infinity : <f64>dev.route[s * K * K + dev.aRow * K + c];
    advance(dev.track, id, dev.cEdge[s * K + c], dev.cOff[s * K + c], t, r, dev.cLon[s * K + c], dev.cLat[s * K + c], dev.lon[s], dev.lat[s], dev.reported[s]);
    dev.aRow = c;
  }
  dev.head = (dev.head + 1) % dev.cap;
  dev.count--;
  // the next non-empty column's routes were computed from this one, which is now the committed position
  for (let i = 0; i < dev.count; i++) {
    const si = dev.slot(i);
    if (dev.nc[si] > 0) {
      if (c >= 0) dev.fromAnchor[si] = true;
      break;
    }
  }
}

/** Commits everything pending and ends the chain (end of input, or an idle device). */
export function flushDevice(dev: Device, id: u32): void {
  while (dev.count > 0) commitOldest(dev, id);
  endTrack(dev.track, id);
  dev.linked = false;
}
