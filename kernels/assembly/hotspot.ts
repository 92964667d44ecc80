// hotspot: Getis-Ord Gi* over a grid of cells and a sliding time window (docs/kernel-abi.md).
//
// Fixes are binned into cells of `cellSize` metres on a W×H grid centred on `origin` (or on the first
// fix); each cell holds the count (or summed speed) of the last `window` seconds, kept as one bucket per
// `slide`. At every slide boundary Gi* is computed for every cell with a square band of k cells around it
// (k = floor(band / cellSize)), using a summed-area table so each cell costs four lookups, not (2k+1)².
import {
  badCoordinates, colLat, colLon, colSpeed, colT, declareCounter, declareKernel, fail, field, jsonList, Output, param, paramBool, paramF64,
  StateReader, StateWriter, takeParams, writeSnapshot,
} from './abi';
import { M_PER_DEG, metresPerDegLon } from './geo';
import { giStarZ, giZ, StarMoments } from './getis-ord';
export { abi_version, alloc, dealloc, error_len, error_ptr, schema_len, schema_ptr } from './abi';

const KIND_HOT: u32 = 0;
const KIND_COOLED: u32 = 1;

declareKernel('hotspot', 'Getis-Ord Gi* hot spots of fixes (or their speeds) over a grid and a sliding window');
const P_CELL = param('cellSize', 'number', 'grid cell size, metres', '"default":250,"min":0,"exclusiveMin":true');
const P_BAND = param('band', 'number', 'neighbourhood: cells within this many metres, a square band (default: cellSize)', '"min":0');
const P_WINDOW = param('window', 'number', 'sliding window, seconds', '"default":300,"min":0,"exclusiveMin":true');
const P_SLIDE = param('slide', 'number', 'how often the window is scored, seconds', '"default":60,"min":0,"exclusiveMin":true');
const P_Z = param('zThreshold', 'number', 'z-score at or above which a cell is hot', '"default":2.58');
const P_MIN_COUNT = param('minCount', 'integer', 'fixes a cell needs in the window to be hot', '"default":5,"min":0');
const P_BY_SPEED = param('weightBySpeed', 'boolean', 'a fix adds its speed to its cell instead of 1', '"default":false');
const P_W = param('gridWidth', 'integer', 'grid width, cells', '"default":256,"min":3,"max":4096');
const P_H = param('gridHeight', 'integer', 'grid height, cells', '"default":256,"min":3,"max":4096');
const P_LON = param('originLon', 'number', 'longitude of the grid centre (default: the first fix)', '"min":-180,"max":180');
const P_LAT = param('originLat', 'number', 'latitude of the grid centre (default: the first fix)', '"min":-90,"max":90');

const F_START = field('windowStart', 'time', 'start of the window scored: of the oldest slide it holds');
const F_END = field('windowEnd', 'time', 'end of the window scored: its last slide’s end, or at a flush the last fix’s time');
const F_Z = field('z', 'f64', 'Gi* z-score of the cell');
const F_WEST = field('west', 'f64', 'cell bounding box: west');
const F_SOUTH = field('south', 'f64', 'south');
const F_EAST = field('east', 'f64', 'east');
const F_NORTH = field('north', 'f64', 'north');
const F_IX = field('ix', 'i32', 'cell column, from the grid centre');
const F_IY = field('iy', 'i32', 'cell row, from the grid centre');
const F_COUNT = field('count', 'u32', 'fixes in the cell in the window');
const F_DETECT = field('detect', 'enum', 'hot, or no longer hot', '"values":' + jsonList(['hot', 'cooled']));

const C_SKIPPED = declareCounter('skipped');
const C_LOST = declareCounter('lostRows');
const C_OUTSIDE = declareCounter('outside');
const C_LATE = declareCounter('late');

let cellSize: f64 = 250;
let k: i32 = 1;
let slideMs: f64 = 60000;
let buckets: i32 = 5;
let zThreshold: f64 = 2.58;
let minCount: u32 = 5;
let weightBySpeed: bool = false;
let W: i32 = 256;
let H: i32 = 256;
let originLon: f64 = NaN;
let originLat: f64 = NaN;
let mPerDegLon: f64 = M_PER_DEG;

let bucketSum = new StaticArray<f64>(0);
let bucketCount = new StaticArray<u32>(0);
let winSum = new StaticArray<f64>(0);
let winCount = new StaticArray<u32>(0);
let hot = new StaticArray<u8>(0);
let sat = new StaticArray<f64>(0);
/** no fix binned yet: slides before 1970 are negative, so -1 cannot mean that */
const NO_SLIDE: i64 = i64.MIN_VALUE;
let current: i64 = NO_SLIDE;
/** a fix was binned since the window was last scored: flush has a window in progress to score */
let binned = false;
/**
 * the latest fix time the window has taken in (NaN: none): what a flush dates the window in progress by, as
 * the slide's end would claim time no fix has reached yet
 */
let lastT: f64 = NaN;

let skipped: u32 = 0;
let outside: u32 = 0;
let late: u32 = 0;
const out = new Output();

export function init(ptr: usize, len: i32): i32 {
  const status = takeParams(ptr, len);
  if (status != 0) return status;
  cellSize = paramF64(P_CELL);
  if (!(cellSize > 0)) return fail('cellSize must be a positive number of metres');
  const band = isNaN(paramF64(P_BAND)) ? cellSize : paramF64(P_BAND);
  if (!(band >= 0)) return fail('band must be zero or more metres');
  k = <i32>Math.floor(band / cellSize + 1e-9);
  const windowS = paramF64(P_WINDOW);
  const slideS = paramF64(P_SLIDE);
  if (!(slideS > 0) || !(windowS >= slideS)) return fail('need 0 < slide <= window (seconds)');
  slideMs = slideS * 1000;
  buckets = <i32>Math.ceil(windowS / slideS - 1e-9);
  zThreshold = paramF64(P_Z);
  minCount = <u32>paramF64(P_MIN_COUNT);
  weightBySpeed = paramBool(P_BY_SPEED);
  W = <i32>paramF64(P_W);
  H = <i32>paramF64(P_H);
  if (W < 3 || H < 3 || W > 4096 || H > 4096) return fail('gridWidth and gridHeight must be between 3 and 4096 cells');
  originLon = paramF64(P_LON);
  originLat = paramF64(P_LAT);
  if (isNaN(originLon) != isNaN(originLat)) return fail('give both originLon and originLat, or neither');
  if (!isNaN(originLat)) mPerDegLon = metresPerDegLon(originLat);
  const cells = W * H;
  bucketSum = new StaticArray<f64>(cells * buckets);
  bucketCount = new StaticArray<u32>(cells * buckets);
  winSum = new StaticArray<f64>(cells);
  winCount = new StaticArray<u32>(cells);
  hot = new StaticArray<u8>(cells);
  sat = new StaticArray<f64>((W + 1) * (H + 1));
  current = NO_SLIDE;
  binned = false;
  lastT = NaN;
  scoreCell = -1;
  skipped = outside = late = 0;
  out.lost = 0;
  return 0;
}

/** A slide's bucket in the ring; slides before 1970 (a clock that is off) are negative, and so is their % */
function ring(slide: i64): i32 {
  const r = <i32>(slide % buckets);
  return r < 0 ? r + buckets : r;
}

/** Bins a batch; returns how many events (hot and cooled cells at slide boundaries passed) it wrote. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  // a flush that stopped for want of room finishes first
  if (scoreCell >= 0) finishScore();
  const tCol = colT(batch, n);
  const lonCol = colLon(batch, n);
  const latCol = colLat(batch, n);
  const speedCol = colSpeed(batch, n);
  for (let i = 0; i < n; i++) {
    const t = load<f64>(tCol + (<usize>i << 3));
    const lon = load<f64>(lonCol + (<usize>i << 3));
    const lat = load<f64>(latCol + (<usize>i << 3));
    if (!isFinite(t) || badCoordinates(lon, lat)) {
      skipped++;
      continue;
    }
    let value: f64 = 1;
    if (weightBySpeed) {
      value = <f64>load<f32>(speedCol + (<usize>i << 2));
      if (!isFinite(value)) {
        skipped++;
        continue;
      }
    }
    if (isNaN(originLon)) {
      originLon = lon;
      originLat = lat;
      mPerDegLon = metresPerDegLon(lat);
    }
    const b = <i64>Math.floor(t / slideMs);
    if (current == NO_SLIDE) current = b;
    if (b <= current - buckets) {
      late++;
      continue;
    }
    // a clock that jumps ahead (a fix from next year): once every bucket has been dropped the window is
    // empty and scoring it finds nothing, so the slides after that are skipped, not scored one by one
    for (let s = 0; current < b; s++) {
      if (s > buckets) current = b;
      else advance();
    }
    // a fix off the grid also tells how far the stream has come
    if (!(t <= lastT)) lastT = t;
    const ix = <i32>Math.floor(((lon - originLon) * mPerDegLon) / cellSize) + W / 2;
    const iy = <i32>Math.floor(((lat - originLat) * M_PER_DEG) / cellSize) + H / 2;
    if (ix < 0 || iy < 0 || ix >= W || iy >= H) {
      outside++;
      continue;
    }
    const cell = iy * W + ix;
    const slot = ring(b) * W * H + cell;
    unchecked((bucketSum[slot] += value));
    unchecked((bucketCount[slot] += 1));
    unchecked((winSum[cell] += value));
    unchecked((winCount[cell] += 1));
    binned = true;
  }
  return out.n;
}

/** Closes the current slide: scores the window that ends here, then drops its oldest bucket. */
function advance(): void {
  beginScore(<f64>(current + 1) * slideMs);
  finishScore();
}

function dropOldest(): void {
  current++;
  const base = ring(current) * W * H;
  for (let c = 0, cells = W * H; c < cells; c++) {
    const s = base + c;
    const cnt = unchecked(bucketCount[s]);
    if (cnt == 0) continue;
    unchecked((winSum[c] -= bucketSum[s]));
    unchecked((winCount[c] -= cnt));
    unchecked((bucketSum[s] = 0));
    unchecked((bucketCount[s] = 0));
  }
}

// a scoring in progress: the window ending at scoreEnd, its summed-area table and moments, cells from
// scoreCell on still to score (-1: none in progress)
let scoreEnd: f64 = 0;
let scoreCell: i32 = -1;
let moments = new StarMoments(0, 0, 1);
let flat = true;

/** The summed-area table and the moments of the current window, before its cells are scored. */
function beginScore(windowEnd: f64): void {
  let sum: f64 = 0;
  let sumSq: f64 = 0;
  const stride = W + 1;
  for (let y = 0; y < H; y++) {
    let row: f64 = 0;
    for (let x = 0; x < W; x++) {
      const v = unchecked(winSum[y * W + x]);
      sum += v;
      sumSq += v * v;
      row += v;
      unchecked((sat[(y + 1) * stride + x + 1] = sat[y * stride + x + 1] + row));
    }
  }
  const n = <f64>(W * H);
  const mean = sum / n;
  flat = sumSq / n - mean * mean <= 1e-12;
  moments = new StarMoments(sum, sumSq, n);
  scoreEnd = windowEnd;
  scoreCell = 0;
  binned = false;
}

/**
 * Scores cells from scoreCell on, writing hot and cooled rows; with `resumable`, stops before a row that
 * does not fit, to go on in the next call.
 */
function scoreCells(resumable: bool): void {
  const stride = W + 1;
  const m = moments;
  const threshold = zThreshold;
  let x = scoreCell % W;
  for (let y = scoreCell / W; y < H; y++, x = 0) {
    const y0 = max(0, y - k);
    const y1 = min(H - 1, y + k);
    for (; x < W; x++) {
      const c = y * W + x;
      let isHot = false;
      let z: f64 = 0;
      if (!flat && unchecked(winCount[c]) >= minCount) {
        const x0 = max(0, x - k);
        const x1 = min(W - 1, x + k);
        const lag =
          unchecked(sat[(y1 + 1) * stride + x1 + 1]) - unchecked(sat[y0 * stride + x1 + 1]) - unchecked(sat[(y1 + 1) * stride + x0]) + unchecked(sat[y0 * stride + x0]);
        const card = <f64>((x1 - x0 + 1) * (y1 - y0 + 1));
        z = giStarZ(m, lag, card);
        isHot = z >= threshold;
      }
      if (isHot || unchecked(hot[c])) {
        if (resumable && out.full()) {
          scoreCell = c;
          return;
        }
        emit(scoreEnd, z, c, isHot ? KIND_HOT : KIND_COOLED);
      }
      unchecked((hot[c] = isHot ? 1 : 0));
    }
  }
  scoreCell = -1;
}

/** scores the rest of the window in progress and closes its slide */
function finishScore(): void {
  scoreCells(false);
  dropOldest();
}

/** A row: the window's end, the cell's z, box, grid position and count, hot or cooled. */
function emit(windowEnd: f64, z: f64, cell: i32, kind: u32): void {
  const i = out.next();
  if (i < 0) return;
  const ix = cell % W - W / 2;
  const iy = cell / W - H / 2;
  const degLat = cellSize / M_PER_DEG;
  const degLon = cellSize / mPerDegLon;
  const west = originLon + <f64>ix * degLon;
  const south = originLat + <f64>iy * degLat;
  // the oldest bucket's slide: the window's nominal start only when it is a whole number of slides
  out.f64(F_START, i, <f64>(current + 1 - buckets) * slideMs);
  out.f64(F_END, i, windowEnd);
  out.f64(F_Z, i, z);
  out.f64(F_WEST, i, west);
  out.f64(F_SOUTH, i, south);
  out.f64(F_EAST, i, west + degLon);
  out.f64(F_NORTH, i, south + degLat);
  out.i32(F_IX, i, ix);
  out.i32(F_IY, i, iy);
  out.u32(F_COUNT, i, unchecked(winCount[cell]));
  out.u32(F_DETECT, i, kind);
}

/**
 * End of input: scores the window in progress (if a fix was binned since it was last scored), as many rows
 * as fit, the rest in the next call; 0 once there is nothing more. The window ends at the last fix: its
 * slide's end is later (by up to a slide), and no fix says the cells stayed so until then.
 */
export function flush(outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  if (scoreCell < 0) {
    if (!binned) return 0;
    // NaN only when restored from a snapshot that did not keep it
    beginScore(isNaN(lastT) ? <f64>(current + 1) * slideMs : lastT);
  }
  scoreCells(true);
  if (scoreCell < 0) dropOldest();
  return out.n;
}

/** Gi or Gi* for a set of points with binary distance-band weights: the statistic without the grid. */
export function gi_points(xy: usize, values: usize, n: i32, band: f64, star: i32, zs: usize): i32 {
  let sum: f64 = 0;
  let sumSq: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f64>(values + (<usize>i << 3));
    sum += v;
    sumSq += v * v;
  }
  const band2 = band * band;
  const m = new StarMoments(sum, sumSq, <f64>n);
  for (let i = 0; i < n; i++) {
    const xi = load<f64>(xy + (<usize>i << 4));
    const yi = load<f64>(xy + (<usize>i << 4) + 8);
    let lag: f64 = 0;
    let card: f64 = 0;
    for (let j = 0; j < n; j++) {
      if (i == j && star == 0) continue;
      const dx = load<f64>(xy + (<usize>j << 4)) - xi;
      const dy = load<f64>(xy + (<usize>j << 4) + 8) - yi;
      if (dx * dx + dy * dy <= band2) {
        lag += load<f64>(values + (<usize>j << 3));
        card += 1;
      }
    }
    store<f64>(zs + (<usize>i << 3), star != 0 ? giStarZ(m, lag, card) : giZ(lag, card, load<f64>(values + (<usize>i << 3)), sum, sumSq, <f64>n));
  }
  return n;
}

export function counter(i: i32): f64 {
  if (i == C_SKIPPED) return skipped;
  if (i == C_LOST) return out.lost;
  if (i == C_OUTSIDE) return outside;
  if (i == C_LATE) return late;
  return NaN;
}

// State, sparse (most cells of a big grid are empty): the counters, the origin, the slide, then the occupied
// cells of the window, the non-empty buckets and the hot cells, each as a count and its entries; then the
// last fix's time.

function writeState(w: StateWriter): void {
  w.u32(skipped);
  w.u32(outside);
  w.u32(late);
  w.u32(out.lost);
  w.f64(originLon);
  w.f64(originLat);
  w.f64(<f64>current);
  w.bool(binned);
  const cells = W * H;
  let n: u32 = 0;
  for (let c = 0; c < cells; c++) if (unchecked(winCount[c]) != 0 || unchecked(winSum[c]) != 0) n++;
  w.u32(n);
  for (let c = 0; c < cells; c++) {
    if (unchecked(winCount[c]) == 0 && unchecked(winSum[c]) == 0) continue;
    w.u32(c);
    w.u32(unchecked(winCount[c]));
    w.f64(unchecked(winSum[c]));
  }
  n = 0;
  for (let s = 0; s < bucketCount.length; s++) if (unchecked(bucketCount[s]) != 0) n++;
  w.u32(n);
  for (let s = 0; s < bucketCount.length; s++) {
    if (unchecked(bucketCount[s]) == 0) continue;
    w.u32(s);
    w.u32(unchecked(bucketCount[s]));
    w.f64(unchecked(bucketSum[s]));
  }
  n = 0;
  for (let c = 0; c < cells; c++) if (unchecked(hot[c])) n++;
  w.u32(n);
  for (let c = 0; c < cells; c++) if (unchecked(hot[c])) w.u32(c);
  w.f64(lastT);
}

export function snapshot(ptr: usize, cap: i32): i32 {
  if (scoreCell >= 0) return fail('hotspot: no snapshot in the middle of a flush (flush until it returns 0)');
  return writeSnapshot(ptr, cap, writeState);
}

export function restore(ptr: usize, len: i32): i32 {
  const r = new StateReader(ptr, ptr + <usize>len);
  const counts = [r.u32(), r.u32(), r.u32(), r.u32()];
  const lon = r.f64();
  const lat = r.f64();
  const slide = r.f64();
  const wasBinned = r.bool();
  const cells = W * H;
  const nextWinSum = new StaticArray<f64>(cells);
  const nextWinCount = new StaticArray<u32>(cells);
  const nextSum = new StaticArray<f64>(cells * buckets);
  const nextCount = new StaticArray<u32>(cells * buckets);
  const nextHot = new StaticArray<u8>(cells);
  for (let i: u32 = 0, n = r.u32(); i < n && r.ok; i++) {
    const c = r.u32();
    if (c >= <u32>cells) return fail('hotspot snapshot: a cell off this grid (other params?)');
    nextWinCount[c] = r.u32();
    nextWinSum[c] = r.f64();
  }
  for (let i: u32 = 0, n = r.u32(); i < n && r.ok; i++) {
    const s = r.u32();
    if (s >= <u32>nextCount.length) return fail('hotspot snapshot: a bucket this window does not have (other params?)');
    nextCount[s] = r.u32();
    nextSum[s] = r.f64();
  }
  for (let i: u32 = 0, n = r.u32(); i < n && r.ok; i++) {
    const c = r.u32();
    if (c >= <u32>cells) return fail('hotspot snapshot: a cell off this grid (other params?)');
    nextHot[c] = 1;
  }
  // last, so that a checkpoint taken before it was kept (a cluster's, across an upgrade) still restores
  const lastFix = r.ok && !r.done() ? r.f64() : NaN;
  if (!r.done()) return fail('not a hotspot snapshot: it ends early or goes on past its cells');
  skipped = counts[0];
  outside = counts[1];
  late = counts[2];
  out.lost = counts[3];
  originLon = lon;
  originLat = lat;
  if (!isNaN(lat)) mPerDegLon = metresPerDegLon(lat);
  current = <i64>slide;
  binned = wasBinned;
  lastT = lastFix;
  winSum = nextWinSum;
  winCount = nextWinCount;
  bucketSum = nextSum;
  bucketCount = nextCount;
  hot = nextHot;
  scoreCell = -1;
  return 0;
}
