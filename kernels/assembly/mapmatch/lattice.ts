// Per device: the Viterbi lattice over the fixes not yet committed, extended one fix at a time, and the
// commit rule: a fix is committed once every path still alive runs through the same candidate there
// (the best path has converged), or once `lag` fixes with candidates wait behind it.
import { haversine } from '../geo';
import { candidates, cBearing, cDist, cEdge, cOff, count } from './candidates';
import { from, to } from './graph';
import { emission, expectedTravel, routeBetween, routeLimit, transition, transitionScale, uTurned } from './model';
import { beam, K, lag, MAX_K, SIGMA_FALLBACK, sigma, stationary, stopSpeed } from './params';
import { addTarget, clearTargets, dijkstra } from './route';
import { advance, endTrack, placeBetween, Track, unmatchedRow } from './traversals';

/** a fix with candidates */
const CANDIDATES: u8 = 0;
/** a stationary fix: placed on the route between the committed fixes around it */
const STAY: u8 = 1;
/** no road within `radius` */
const EMPTY: u8 = 2;
/** candidates no path reached, while the fix after it was reached from before it: placed like a stationary fix */
const OUTLIER: u8 = 3;

@inline function placedBetween(kind: u8): bool { return kind == STAY || kind == OUTLIER; }

/** chains broken (a gap, or a fix no route reaches that the next fix confirms): the match started over */
export let breaks: u32 = 0;
export function setBreaks(n: u32): void { breaks = n; }

const NO_I32 = new StaticArray<i32>(0);
const NO_F64 = new StaticArray<f64>(0);
const NO_F32 = new StaticArray<f32>(0);

/** One pending fix and its candidates, each with its best predecessor in the candidate column before. */
export class Column {
  t: f64 = 0;
  lon: f64 = 0;
  lat: f64 = 0;
  speed: f64 = NaN;
  kind: u8 = CANDIDATES;
  /** the chain starts here: no predecessors */
  start: bool = false;
  n: i32 = 0;
  // the candidates, allocated when the column first holds any, so stationary fixes stay small
  edge: StaticArray<i32> = NO_I32;
  off: StaticArray<f64> = NO_F64;
  emit: StaticArray<f64> = NO_F64;
  /** index of the best predecessor, -1 if none reaches */
  back: StaticArray<i32> = NO_I32;
  /** metres of route from it */
  route: StaticArray<f32> = NO_F32;

  holdCandidates(): void {
    if (this.edge.length == K) return;
    this.edge = new StaticArray<i32>(K);
    this.off = new StaticArray<f64>(K);
    this.emit = new StaticArray<f64>(K);
    this.back = new StaticArray<i32>(K);
    this.route = new StaticArray<f32>(K);
  }
}

/** The newest linked candidate column, kept after it is committed, and the score of the best path to each candidate. */
export class Frontier {
  t: f64 = 0;
  lon: f64 = 0;
  lat: f64 = 0;
  speed: f64 = NaN;
  n: i32 = 0;
  // K, not MAX_K: made after init has read the params
  edge: StaticArray<i32> = new StaticArray<i32>(K);
  off: StaticArray<f64> = new StaticArray<f64>(K);
  score: StaticArray<f64> = new StaticArray<f64>(K);

  fill(c: Column, score: StaticArray<f64>): void {
    this.t = c.t;
    this.lon = c.lon;
    this.lat = c.lat;
    this.speed = c.speed;
    this.n = c.n;
    for (let b = 0; b < c.n; b++) {
      this.edge[b] = c.edge[b];
      this.off[b] = c.off[b];
      this.score[b] = score[b];
    }
  }

  best(): i32 {
    let c = -1;
    let best = -Infinity;
    for (let b = 0; b < this.n; b++) if (this.score[b] > best) (best = this.score[b]), (c = b);
    return c;
  }
}

/** room for 2 × the largest lag of pending columns */
const MAX_PENDING: i32 = 202;
/**
 * Every column of the ring comes to hold candidate arrays (the ring turns), ~0.6 kB each: with `lagSeconds`
 * 1.5 at a fix a second no ring of the demo's 250 vehicles grew past 4 in 300 s, where 8 held 0.8 MB idle
 */
const MIN_RING: i32 = 4;

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
  /** pending columns, oldest first, in a ring that grows as needed and shrinks again once they are committed */
  ring: StaticArray<Column> = new StaticArray<Column>(0);
  head: i32 = 0;
  count: i32 = 0;
  /** pending columns with candidates: stationary fixes add no evidence, so they do not count against `lag` */
  withCandidates: i32 = 0;

  @inline col(i: i32): Column { return unchecked(this.ring[(this.head + i) % this.ring.length]); }

  /** a column at the end of the ring, for the next fix */
  push(): Column {
    if (this.count == this.ring.length) this.resize(max(MIN_RING, this.ring.length * 2));
    return this.col(this.count++);
  }

  /** drops the oldest column */
  shift(): void {
    if (this.col(0).n > 0) this.withCandidates--;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    if (this.last >= 0) this.last--;
    if (this.detached >= 0) this.detached--;
    if (this.ring.length > MIN_RING && this.count <= this.ring.length / 4) this.resize(this.ring.length / 2);
  }

  private resize(size: i32): void {
    const ring = new StaticArray<Column>(size);
    for (let i = 0; i < size; i++) ring[i] = i < this.count ? this.col(i) : i < this.ring.length ? this.col(i) : new Column();
    this.ring = ring;
    this.head = 0;
  }
}

// ---- extending the lattice by one column
const newScore = new StaticArray<f64>(MAX_K);

/**
 * Scores column c's candidates by the best path from frontier `fr` (only its live candidates are tried)
 * into newScore, and sets their predecessors. False when no candidate is reached.
 */
function link(c: Column, fr: Frontier, sig: f64): bool {
  const dt = Math.max(0.001, (c.t - fr.t) / 1000);
  const gc = haversine(fr.lon, fr.lat, c.lon, c.lat);
  const expected = expectedTravel(dt, gc, fr.speed, c.speed);
  const scale = transitionScale(dt, sig);
  const limit = routeLimit(dt, gc, sig);
  clearTargets();
  for (let b = 0; b < c.n; b++) {
    addTarget(from(c.edge[b]));
    newScore[b] = -Infinity;
    c.back[b] = -1;
    c.route[b] = <f32>Infinity;
  }
  let lastSource = -1;
  for (let a = 0; a < fr.n; a++) {
    if (fr.score[a] == -Infinity) continue;
    const ea = fr.edge[a];
    const oa = fr.off[a];
    // candidates in a row on edges that end at one node share a search
    if (to(ea) != lastSource) dijkstra((lastSource = to(ea)), limit);
    for (let b = 0; b < c.n; b++) {
      const r = routeBetween(ea, oa, c.edge[b], c.off[b]);
      if (!(r <= limit)) continue;
      const score = fr.score[a] + transition(r, expected, scale, uTurned);
      if (score > newScore[b]) {
        newScore[b] = score;
        c.back[b] = a;
        c.route[b] = <f32>r;
      }
    }
  }
  let best = -Infinity;
  for (let b = 0; b < c.n; b++) {
    if (c.back[b] < 0) continue;
    newScore[b] += c.emit[b];
    best = Math.max(best, newScore[b]);
  }
  if (best == -Infinity) return false;
  // paths this far behind the best will not come back: dropping them saves their searches
  for (let b = 0; b < c.n; b++) if (newScore[b] < best - beam) newScore[b] = -Infinity;
  return true;
}

/** pending column i starts a chain: each candidate starts a path with its emission */
function startChain(dev: Device, i: i32): void {
  const c = dev.col(i);
  c.start = true;
  c.kind = CANDIDATES;
  for (let b = 0; b < c.n; b++) {
    c.back[b] = -1;
    c.route[b] = <f32>Infinity;
    newScore[b] = c.emit[b];
  }
  dev.front.fill(c, newScore);
  dev.linked = true;
  dev.last = i;
  if (dev.detached == i) dev.detached = -1;
}

let trial = new Frontier();

/** can pending column i be reached from the detached column, as though a chain started there? */
function reachedFromDetached(dev: Device, i: i32, sig: f64): bool {
  // made at start-up, before the params said K
  if (trial.edge.length != K) trial = new Frontier();
  const d = dev.col(dev.detached);
  trial.fill(d, d.emit);
  return link(dev.col(i), trial, sig);
}

/**
 * Adds a fix to the device's lattice and commits what is decided. `gap`: too long since the device's last
 * fix to link to it.
 */
export function addFix(dev: Device, id: u32, t: f64, lon: f64, lat: f64, speed: f64, heading: f64, accuracy: f64, gap: bool): void {
  const i = dev.count;
  const c = dev.push();
  c.t = t;
  c.lon = lon;
  c.lat = lat;
  c.speed = speed;
  c.start = false;
  c.n = 0;
  const sig = !isNaN(sigma) ? sigma : accuracy > 0 && isFinite(accuracy) ? accuracy : SIGMA_FALLBACK;
  // a stopped vehicle's fixes say more about noise than movement: matched on their own, jitter at a
  // junction invents U-turns into side streets. Its speed says it is stopped; without one, a fix this
  // close to the last one linked says so.
  const still = isFinite(speed) ? speed < stopSpeed : haversine(dev.front.lon, dev.front.lat, lon, lat) < (isNaN(stationary) ? 2 * sig : stationary);
  if (dev.linked && !gap && dev.detached < 0 && still) {
    c.kind = STAY;
    // the vehicle is still where the frontier is, now: the next step is timed from here
    dev.front.t = t;
    dev.front.speed = speed;
    commit(dev, id);
    return;
  }
  candidates(lon, lat);
  if (count == 0) {
    c.kind = EMPTY;
    commit(dev, id);
    return;
  }
  c.kind = CANDIDATES;
  c.holdCandidates();
  c.n = count;
  dev.withCandidates++;
  for (let b = 0; b < count; b++) {
    c.edge[b] = cEdge[b];
    c.off[b] = cOff[b];
    c.emit[b] = emission(cDist[b], sig, heading, speed, cBearing[b]);
  }
  if (!dev.linked || gap) {
    breakChain(dev, id, i);
  } else if (link(c, dev.front, sig)) {
    // reached from the frontier: a column left detached before this one was an outlier
    if (dev.detached >= 0) dev.col(dev.detached).kind = OUTLIER;
    dev.detached = -1;
    dev.front.fill(c, newScore);
    dev.last = i;
  } else if (dev.detached >= 0 && reachedFromDetached(dev, i, sig)) {
    // reached only from the detached column: the chain broke there (committing what is before it moves this column)
    breakChain(dev, id, dev.detached);
    link(c, dev.front, sig);
    dev.front.fill(c, newScore);
    dev.last = dev.count - 1;
  } else {
    // reached from nothing: the next fix tells an outlier from a break
    if (dev.detached >= 0) dev.col(dev.detached).kind = OUTLIER;
    dev.detached = i;
  }
  commit(dev, id);
}

// ---- commits
/** the chosen candidate of each pending candidate column, by pending index */
const choice = new StaticArray<i32>(MAX_PENDING);
const live = new StaticArray<i32>(MAX_K);
const liveBefore = new StaticArray<i32>(MAX_K);

/** the pending candidate column that column i's predecessors are in, -1 if it is committed or i starts the chain */
function previousColumn(dev: Device, i: i32): i32 {
  if (dev.col(i).start) return -1;
  for (let j = i - 1; j >= 0; j--) if (dev.col(j).kind == CANDIDATES && j != dev.detached) return j;
  return -1;
}

/** fills `choice` for pending column i (candidate b) and each candidate column before it on b's path */
function chooseBack(dev: Device, i: i32, b: i32): void {
  for (let j = i; j >= 0 && b >= 0; j = previousColumn(dev, j)) {
    choice[j] = b;
    b = dev.col(j).back[b];
  }
}

/** the candidate at pending column `at` on the path that ends at frontier candidate b */
function ancestor(dev: Device, b: i32, at: i32): i32 {
  for (let i = dev.last; i > at && b >= 0; i = previousColumn(dev, i)) b = dev.col(i).back[b];
  return b;
}

/**
 * Writes the oldest pending column (candidate b of a candidate column) and drops it. A stationary or
 * outlier column is placed on the way to pending column `next` (its candidate nextB), or, with next -1,
 * where the vehicle was last committed.
 */
function commitOldest(dev: Device, id: u32, b: i32, next: i32 = -1, nextB: i32 = -1): void {
  const c = dev.col(0);
  if (placedBetween(c.kind) && dev.track.on) {
    const n = next >= 0 ? dev.col(next) : c;
    const linked = next >= 0 && n.back[nextB] == dev.trackRow;
    placeBetween(dev.track, id, c.t, c.lon, c.lat, c.speed, linked ? n.edge[nextB] : -1, linked ? n.off[nextB] : 0, linked ? <f64>n.route[nextB] : Infinity, n.t);
  } else if (c.kind != CANDIDATES || b < 0) {
    unmatchedRow(id, c.t, c.lon, c.lat, c.speed);
  } else {
    const r = !c.start && c.back[b] == dev.trackRow ? <f64>c.route[b] : Infinity;
    advance(dev.track, id, c.edge[b], c.off[b], c.t, r, c.lon, c.lat, c.speed);
    dev.trackRow = b;
  }
  dev.shift();
}

/** commits pending columns 0..j: candidate columns with `choice`, the others placed towards the candidate column after them */
function commitThrough(dev: Device, id: u32, j: i32): void {
  let next = -1;
  for (let n = 0; n <= j; n++) {
    const kind = dev.col(0).kind;
    if (!placedBetween(kind)) commitOldest(dev, id, kind == CANDIDATES ? choice[n] : -1);
    else {
      if (next < n) for (next = n + 1; next <= j && dev.col(next - n).kind != CANDIDATES; next++);
      if (next <= j) commitOldest(dev, id, -1, next - n, choice[next]);
      else commitOldest(dev, id, -1);
    }
  }
}

/** the newest pending column every live path agrees on (`choice` filled up to it), or -1 */
function converged(dev: Device): i32 {
  let i = dev.last;
  if (i < 0) return -1;
  let n = 0;
  for (let b = 0; b < dev.front.n; b++) if (dev.front.score[b] > -Infinity) live[n++] = b;
  while (n > 1) {
    const p = previousColumn(dev, i);
    if (p < 0) return -1;
    const back = dev.col(i).back;
    let m = 0;
    for (let x = 0; x < n; x++) {
      const a = back[live[x]];
      let known = false;
      for (let y = 0; y < m; y++) if (liveBefore[y] == a) known = true;
      if (!known) liveBefore[m++] = a;
    }
    for (let y = 0; y < m; y++) live[y] = liveBefore[y];
    n = m;
    i = p;
  }
  chooseBack(dev, i, live[0]);
  return i;
}

/** Commits the oldest pending column on the best path now, and drops the paths that do not run through it. */
function forceOldest(dev: Device, id: u32): void {
  // the detached column cannot wait any longer: it starts a chain of its own
  if (dev.detached == 0) breakChain(dev, id, 0);
  if (dev.col(0).kind != CANDIDATES || dev.last < 0) {
    commitOldest(dev, id, -1);
    return;
  }
  const b = ancestor(dev, dev.front.best(), 0);
  for (let x = 0; x < dev.front.n; x++) if (dev.front.score[x] > -Infinity && ancestor(dev, x, 0) != b) dev.front.score[x] = -Infinity;
  commitOldest(dev, id, b);
}

/**
 * Commits what is decided: while too many wait, the oldest; then what every live path agrees on. Fixes
 * with candidates count against `lag`; stationary ones too, but only past twice it: they bring no
 * evidence (a standstill must not force a commit the fixes after it would have decided), yet a parked
 * vehicle's must not pile up.
 */
function commit(dev: Device, id: u32): void {
  while (dev.withCandidates > lag || dev.count > 2 * lag + 1) forceOldest(dev, id);
  const j = converged(dev);
  if (j >= 0) commitThrough(dev, id, j);
  // fixes with no road near, at the front, wait for nothing
  while (dev.count > 0 && dev.col(0).kind == EMPTY) commitOldest(dev, id, -1);
}

/** Ends the chain before pending column i, committing what is before it on the best path, and starts one at i. */
function breakChain(dev: Device, id: u32, i: i32): void {
  if (dev.linked) breaks++;
  if (dev.last >= 0 && dev.last < i) chooseBack(dev, dev.last, dev.front.best());
  commitThrough(dev, id, i - 1);
  startChain(dev, 0);
}

/** Commits everything pending and ends the chain (end of input, or an idle device). */
export function flushDevice(dev: Device, id: u32): void {
  if (dev.detached >= 0) breakChain(dev, id, dev.detached);
  if (dev.last >= 0) chooseBack(dev, dev.last, dev.front.best());
  commitThrough(dev, id, dev.count - 1);
  endTrack(dev.track, id);
  dev.linked = false;
  dev.trackRow = -1;
}

/** commits, on the best path now, every pending fix at least `lagMs` older than `now` */
export function commitOlderThan(dev: Device, id: u32, now: f64, lagMs: f64): void {
  while (dev.count > 0 && now - dev.col(0).t >= lagMs) forceOldest(dev, id);
}
