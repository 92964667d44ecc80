// Per device: the Viterbi lattice over the fixes not yet committed, extended one fix at a time, and the
// commit rule: a fix is committed once every path still alive runs through the same candidate there
// (the best path has converged), or once `lag` fixes wait behind it.
import { haversine } from '../geo';
import { candidates, cBearing, cDist, cEdge, cLat, cLon, cOff, count } from './candidates';
import { from, to } from './graph';
import { emission, expectedTravel, routeBetween, routeLimit, transition, transitionScale, uTurned } from './model';
import { beam, K, lag, MAX_K, SIGMA_FALLBACK, sigma, stationary, stopSpeed } from './params';
import { addTarget, clearTargets, dijkstra } from './route';
import { advance, endTrack, stayRow, Track, unmatchedRow } from './traversals';

/** a column of candidates */
const CANDIDATES: u8 = 0;
/** a stationary fix: it takes the position committed before it */
const STAY: u8 = 1;
/** no road within `radius` */
const EMPTY: u8 = 2;
/** candidates no path reached, while the fix after it was reached from before it: placed like a stationary fix */
const OUTLIER: u8 = 3;

/** placed on the route between the committed fixes around it rather than by its own candidates */
@inline function placedBetween(kind: u8): bool { return kind == STAY || kind == OUTLIER; }

/** chains broken (a gap, or a fix no route reaches that the next fix confirms): the matcher started over */
export let breaks: u32 = 0;
export function resetBreaks(): void { breaks = 0; }

/** The newest linked candidate column (kept after it is committed) and the score of the best path to each candidate. */
class Frontier {
  t: f64 = 0;
  lon: f64 = 0;
  lat: f64 = 0;
  speed: f64 = NaN;
  n: i32 = 0;
  edge: StaticArray<i32> = new StaticArray<i32>(MAX_K);
  off: StaticArray<f64> = new StaticArray<f64>(MAX_K);
  score: StaticArray<f64> = new StaticArray<f64>(MAX_K);

  fill(dev: Device, i: i32, score: StaticArray<f64>): void {
    const s = dev.slot(i);
    this.t = dev.t[s];
    this.lon = dev.lon[s];
    this.lat = dev.lat[s];
    this.speed = dev.speed[s];
    this.n = dev.nc[s];
    for (let b = 0; b < this.n; b++) {
      this.edge[b] = dev.cEdge[s * K + b];
      this.off[b] = dev.cOff[s * K + b];
      this.score[b] = score[b];
    }
  }
}

export class Device {
  lastT: f64 = -Infinity;
  track: Track = new Track();
  /** the committed candidate's index in its column: what the next column's back pointers name */
  trackRow: i32 = -1;
  front: Frontier = new Frontier();
  /** a chain is going: the frontier is set */
  linked: bool = false;
  /** the frontier's pending index, -1 once committed */
  last: i32 = -1;
  /** pending index of a column nothing reached, waiting for the next fix to tell outlier from break; -1 none */
  detached: i32 = -1;
  // pending columns, oldest first, in a ring that grows as needed
  head: i32 = 0;
  count: i32 = 0;
  /** pending columns with candidates: stationary fixes add no evidence, so they do not count against `lag` */
  withCandidates: i32 = 0;
  cap: i32 = 0;
  t: StaticArray<f64> = new StaticArray<f64>(0);
  lon: StaticArray<f64> = new StaticArray<f64>(0);
  lat: StaticArray<f64> = new StaticArray<f64>(0);
  speed: StaticArray<f64> = new StaticArray<f64>(0);
  kind: StaticArray<u8> = new StaticArray<u8>(0);
  /** the chain starts here: no back pointers */
  start: StaticArray<bool> = new StaticArray<bool>(0);
  nc: StaticArray<i32> = new StaticArray<i32>(0);
  cEdge: StaticArray<i32> = new StaticArray<i32>(0);
  cOff: StaticArray<f64> = new StaticArray<f64>(0);
  cLon: StaticArray<f64> = new StaticArray<f64>(0);
  cLat: StaticArray<f64> = new StaticArray<f64>(0);
  cEmit: StaticArray<f64> = new StaticArray<f64>(0);
  /** the best predecessor in the previous candidate column, -1 at a chain start */
  cBack: StaticArray<i32> = new StaticArray<i32>(0);
  /** metres of route from that predecessor */
  cRoute: StaticArray<f32> = new StaticArray<f32>(0);

  @inline slot(i: i32): i32 { return (this.head + i) % this.cap; }

  /** room for one more pending column: the ring doubles when full, so devices that converge fast stay small */
  reserve(): void {
    if (this.count < this.cap) return;
    const cap = this.cap == 0 ? 8 : this.cap * 2;
    const t = new StaticArray<f64>(cap), lon = new StaticArray<f64>(cap), lat = new StaticArray<f64>(cap), speed = new StaticArray<f64>(cap);
    const kind = new StaticArray<u8>(cap), start = new StaticArray<bool>(cap), nc = new StaticArray<i32>(cap);
    const cEdge = new StaticArray<i32>(cap * K), cOff = new StaticArray<f64>(cap * K), cLon = new StaticArray<f64>(cap * K), cLat = new StaticArray<f64>(cap * K);
    const cEmit = new StaticArray<f64>(cap * K), cBack = new StaticArray<i32>(cap * K), cRoute = new StaticArray<f32>(cap * K);
    for (let i = 0; i < this.count; i++) {
      const s = this.slot(i);
      t[i] = this.t[s];
      lon[i] = this.lon[s];
      lat[i] = this.lat[s];
      speed[i] = this.speed[s];
      kind[i] = this.kind[s];
      start[i] = this.start[s];
      nc[i] = this.nc[s];
      for (let b = 0; b < this.nc[s]; b++) {
        cEdge[i * K + b] = this.cEdge[s * K + b];
        cOff[i * K + b] = this.cOff[s * K + b];
        cLon[i * K + b] = this.cLon[s * K + b];
        cLat[i * K + b] = this.cLat[s * K + b];
        cEmit[i * K + b] = this.cEmit[s * K + b];
        cBack[i * K + b] = this.cBack[s * K + b];
        cRoute[i * K + b] = this.cRoute[s * K + b];
      }
    }
    this.t = t;
    this.lon = lon;
    this.lat = lat;
    this.speed = speed;
    this.kind = kind;
    this.start = start;
    this.nc = nc;
    this.cEdge = cEdge;
    this.cOff = cOff;
    this.cLon = cLon;
    this.cLat = cLat;
    this.cEmit = cEmit;
    this.cBack = cBack;
    this.cRoute = cRoute;
    this.head = 0;
    this.cap = cap;
  }
}

// ---- one transition step

const newScore = new StaticArray<f64>(MAX_K);
const newBack = new StaticArray<i32>(MAX_K);
const newRoute = new StaticArray<f64>(MAX_K);

/**
 * Scores pending column i's candidates by the best path from frontier `fr` (only its live candidates are
 * tried) into newScore, and sets their back pointers. False when none is reachable.
 */
function link(dev: Device, i: i32, fr: Frontier, sig: f64): bool {
  const s = dev.slot(i);
  const nb = dev.nc[s];
  const dt = Math.max(0.001, (dev.t[s] - fr.t) / 1000);
  const gc = haversine(fr.lon, fr.lat, dev.lon[s], dev.lat[s]);
  const expected = expectedTravel(dt, gc, fr.speed, dev.speed[s]);
  const scale = transitionScale(dt, sig);
  const limit = routeLimit(dt, gc, sig);
  clearTargets();
  for (let b = 0; b < nb; b++) {
    addTarget(from(dev.cEdge[s * K + b]));
    newScore[b] = -Infinity;
    newBack[b] = -1;
  }
  let lastSrc = -1;
  for (let a = 0; a < fr.n; a++) {
    if (fr.score[a] == -Infinity) continue;
    const ea = fr.edge[a];
    const oa = fr.off[a];
    if (to(ea) != lastSrc) {
      dijkstra(to(ea), limit);
      lastSrc = to(ea);
    }
    for (let b = 0; b < nb; b++) {
      const r = routeBetween(ea, oa, dev.cEdge[s * K + b], dev.cOff[s * K + b]);
      if (!(r <= limit)) continue;
      const sc = fr.score[a] + transition(r, expected, scale, uTurned);
      if (sc > newScore[b]) {
        newScore[b] = sc;
        newBack[b] = a;
        newRoute[b] = r;
      }
    }
  }
  let best = -Infinity;
  for (let b = 0; b < nb; b++) {
    if (newBack[b] < 0) continue;
    newScore[b] += dev.cEmit[s * K + b];
    if (newScore[b] > best) best = newScore[b];
  }
  if (best == -Infinity) return false;
  for (let b = 0; b < nb; b++) {
    dev.cBack[s * K + b] = newBack[b];
    dev.cRoute[s * K + b] = <f32>(newBack[b] < 0 ? Infinity : newRoute[b]);
    // paths this far behind the best will not come back: dropping them saves their searches
    if (newScore[b] < best - beam) newScore[b] = -Infinity;
  }
  return true;
}

/** column i starts a chain: each candidate starts a path with its emission */
function startChain(dev: Device, i: i32): void {
  const s = dev.slot(i);
  dev.start[s] = true;
  dev.kind[s] = CANDIDATES;
  for (let b = 0; b < dev.nc[s]; b++) {
    dev.cBack[s * K + b] = -1;
    dev.cRoute[s * K + b] = <f32>Infinity;
    newScore[b] = dev.cEmit[s * K + b];
  }
  dev.front.fill(dev, i, newScore);
  dev.linked = true;
  dev.last = i;
  if (dev.detached == i) dev.detached = -1;
}

const trial = new Frontier();
const startScore = new StaticArray<f64>(MAX_K);

/**
 * Adds a fix to the device's lattice and commits what is decided. `gap`: too long since the device's last
 * fix to link to it.
 */
export function addFix(dev: Device, id: u32, t: f64, lon: f64, lat: f64, speed: f64, heading: f64, accuracy: f64, gap: bool): void {
  dev.reserve();
  const i = dev.count++;
  const s = dev.slot(i);
  dev.t[s] = t;
  dev.lon[s] = lon;
  dev.lat[s] = lat;
  dev.speed[s] = speed;
  dev.start[s] = false;
  dev.nc[s] = 0;
  const sig = !isNaN(sigma) ? sigma : accuracy > 0 && isFinite(accuracy) ? accuracy : SIGMA_FALLBACK;
  // a stopped vehicle's fixes say more about noise than movement: matched on their own, jitter at a
  // junction invents U-turns into side streets. Its speed says it is stopped; without one, a fix this
  // close to the last one linked says so.
  const still = isFinite(speed) ? speed < stopSpeed : haversine(dev.front.lon, dev.front.lat, lon, lat) < (isNaN(stationary) ? 2 * sig : stationary);
  if (dev.linked && !gap && dev.detached < 0 && still) {
    dev.kind[s] = STAY;
    // the vehicle is still where the frontier is, now: the next step is timed from here
    dev.front.t = t;
    dev.front.speed = speed;
    commit(dev, id);
    return;
  }
  candidates(lon, lat);
  if (count == 0) {
    dev.kind[s] = EMPTY;
    commit(dev, id);
    return;
  }
  dev.kind[s] = CANDIDATES;
  dev.nc[s] = count;
  dev.withCandidates++;
  for (let b = 0; b < count; b++) {
    dev.cEdge[s * K + b] = cEdge[b];
    dev.cOff[s * K + b] = cOff[b];
    dev.cLon[s * K + b] = cLon[b];
    dev.cLat[s * K + b] = cLat[b];
    dev.cEmit[s * K + b] = emission(cDist[b], sig, heading, speed, cBearing[b]);
  }
  if (!dev.linked || gap) {
    breakChain(dev, id, i);
  } else if (link(dev, i, dev.front, sig)) {
    // reached from the frontier: a column left detached before this one was an outlier
    if (dev.detached >= 0) dev.kind[dev.slot(dev.detached)] = OUTLIER;
    dev.detached = -1;
    dev.front.fill(dev, i, newScore);
    dev.last = i;
  } else if (dev.detached >= 0 && linksFromDetached(dev, i, sig)) {
    // reached only from the detached column: the chain broke there (committing before it moves this column)
    breakChain(dev, id, dev.detached);
    const j = dev.count - 1;
    link(dev, j, dev.front, sig);
    dev.front.fill(dev, j, newScore);
    dev.last = j;
  } else {
    // reached from nothing: the next fix tells an outlier from a break
    if (dev.detached >= 0) dev.kind[dev.slot(dev.detached)] = OUTLIER;
    dev.detached = i;
  }
  commit(dev, id);
}

function linksFromDetached(dev: Device, i: i32, sig: f64): bool {
  const d = dev.slot(dev.detached);
  for (let b = 0; b < dev.nc[d]; b++) startScore[b] = dev.cEmit[d * K + b];
  trial.fill(dev, dev.detached, startScore);
  return link(dev, i, trial, sig);
}

// ---- commits
/** chosen candidate per pending column (by pending index) */
const MAX_PENDING: i32 = 256;
const choice = new StaticArray<i32>(MAX_PENDING);
const live = new StaticArray<i32>(MAX_K);
const liveNext = new StaticArray<i32>(MAX_K);

/** the pending candidate column that column i's back pointers name, -1 if it is committed or i starts the chain */
function previousColumn(dev: Device, i: i32): i32 {
  if (dev.start[dev.slot(i)]) return -1;
  for (let j = i - 1; j >= 0; j--) if (dev.kind[dev.slot(j)] == CANDIDATES && j != dev.detached) return j;
  return -1;
}

/** fills `choice` for pending column i (candidate c) and every candidate column before it on c's path */
function chooseBack(dev: Device, i: i32, c: i32): void {
  for (let j = i; j >= 0 && c >= 0; ) {
    choice[j] = c;
    c = dev.cBack[dev.slot(j) * K + c];
    j = previousColumn(dev, j);
    if (j < 0) break;
  }
}

function bestFront(dev: Device): i32 {
  let c = -1;
  let best = -Infinity;
  for (let b = 0; b < dev.front.n; b++) if (dev.front.score[b] > best) (best = dev.front.score[b]), (c = b);
  return c;
}

/** the candidate at pending column `at` on the path that ends at frontier candidate b */
function ancestor(dev: Device, b: i32, at: i32): i32 {
  let i = dev.last;
  let c = b;
  while (i > at && c >= 0) {
    c = dev.cBack[dev.slot(i) * K + c];
    i = previousColumn(dev, i);
    if (i < 0) return -1;
  }
  return c;
}

/**
 * Writes the oldest pending column (candidate c of a candidate column) and drops it from the ring. A
 * stationary column is placed on the way to pending column `next` (its candidate nextC), or, with next
 * -1, where the vehicle was committed.
 */
function commitOldest(dev: Device, id: u32, c: i32, next: i32 = -1, nextC: i32 = -1): void {
  const s = dev.slot(0);
  const t = dev.t[s];
  const kind = dev.kind[s];
  if (placedBetween(kind) && dev.track.on) {
    const n = next >= 0 ? dev.slot(next) * K + nextC : -1;
    const r = n >= 0 && dev.cBack[n] == dev.trackRow ? <f64>dev.cRoute[n] : Infinity;
    stayRow(dev.track, id, t, dev.lon[s], dev.lat[s], dev.speed[s], n >= 0 ? dev.cEdge[n] : -1, n >= 0 ? dev.cOff[n] : 0, r, next >= 0 ? dev.t[dev.slot(next)] : NaN);
  } else if (kind != CANDIDATES || c < 0) {
    unmatchedRow(id, t, dev.lon[s], dev.lat[s], dev.speed[s]);
  } else {
    const k = s * K + c;
    const r = !dev.start[s] && dev.cBack[k] == dev.trackRow ? <f64>dev.cRoute[k] : Infinity;
    advance(dev.track, id, dev.cEdge[k], dev.cOff[k], t, r, dev.cLon[k], dev.cLat[k], dev.lon[s], dev.lat[s], dev.speed[s]);
    dev.trackRow = c;
  }
  if (dev.nc[s] > 0) dev.withCandidates--;
  dev.head = (dev.head + 1) % dev.cap;
  dev.count--;
  dev.last--;
  if (dev.detached >= 0) dev.detached--;
}

/** commits pending columns 0..j, candidate columns with `choice`, stationary ones on the way to the candidate column after them */
function commitThrough(dev: Device, id: u32, j: i32): void {
  let next = -1;
  for (let n = 0; n <= j; n++) {
    const kind = dev.kind[dev.slot(0)];
    if (placedBetween(kind) && next < n) for (next = n + 1; next <= j && dev.kind[dev.slot(next - n)] != CANDIDATES; next++);
    if (placedBetween(kind) && next <= j) commitOldest(dev, id, -1, next - n, choice[next]);
    else commitOldest(dev, id, kind == CANDIDATES ? choice[n] : -1);
  }
}

/** the newest pending column every live path agrees on (its candidate in `choice`), or -1 */
function converged(dev: Device): i32 {
  let i = dev.last;
  if (i < 0) return -1;
  let n = 0;
  for (let b = 0; b < dev.front.n; b++) if (dev.front.score[b] > -Infinity) live[n++] = b;
  while (n > 1) {
    const p = previousColumn(dev, i);
    if (p < 0) return -1;
    let m = 0;
    for (let x = 0; x < n; x++) {
      const a = dev.cBack[dev.slot(i) * K + live[x]];
      let known = false;
      for (let y = 0; y < m; y++) if (liveNext[y] == a) known = true;
      if (!known) liveNext[m++] = a;
    }
    for (let y = 0; y < m; y++) live[y] = liveNext[y];
    n = m;
    i = p;
  }
  chooseBack(dev, i, live[0]);
  return i;
}

/**
 * Commits the oldest pending column on the best path now (too many wait), and drops the paths that do
 * not run through the candidate committed.
 */
function forceOldest(dev: Device, id: u32): void {
  // the detached column cannot wait any longer: it starts a chain of its own
  if (dev.detached == 0) breakChain(dev, id, 0);
  const s = dev.slot(0);
  if (dev.kind[s] != CANDIDATES || dev.last < 0) {
    commitOldest(dev, id, -1);
    return;
  }
  const c = ancestor(dev, bestFront(dev), 0);
  for (let b = 0; b < dev.front.n; b++) if (dev.front.score[b] > -Infinity && ancestor(dev, b, 0) != c) dev.front.score[b] = -Infinity;
  commitOldest(dev, id, c);
}

/** Commits what is decided: while too many wait, the oldest; then all the live paths agree on. */
function commit(dev: Device, id: u32): void {
  while (dev.withCandidates > lag || dev.count == MAX_PENDING) forceOldest(dev, id);
  const j = converged(dev);
  if (j >= 0) commitThrough(dev, id, j);
  // what waits at the front with no candidates and no position to wait for needs nothing more
  while (dev.count > 0 && dev.kind[dev.slot(0)] == EMPTY) commitOldest(dev, id, -1);
}

/** Ends the chain before pending column i, committing what is before it on the best path, and starts one at i. */
function breakChain(dev: Device, id: u32, i: i32): void {
  if (dev.linked) breaks++;
  if (i > 0) {
    if (dev.last >= 0 && dev.last < i) chooseBack(dev, dev.last, bestFront(dev));
    commitThrough(dev, id, i - 1);
  }
  startChain(dev, 0);
}

/** Commits everything pending and ends the chain (end of input, or an idle device). */
export function flushDevice(dev: Device, id: u32): void {
  if (dev.detached >= 0) breakChain(dev, id, dev.detached);
  if (dev.last >= 0) chooseBack(dev, dev.last, bestFront(dev));
  commitThrough(dev, id, dev.count - 1);
  endTrack(dev.track, id);
  dev.linked = false;
  dev.trackRow = -1;
}

/** commits, on the best path now, every pending fix at least `lagMs` older than `now` */
export function commitOlderThan(dev: Device, id: u32, now: f64, lagMs: f64): void {
  while (dev.count > 0 && now - dev.t[dev.slot(0)] >= lagMs) forceOldest(dev, id);
}
