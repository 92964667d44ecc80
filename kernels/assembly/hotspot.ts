// hotspot: Getis-Ord Gi* over a grid of cells and a sliding time window (docs/kernel-abi.md).
//
// Fixes are binned into cells of `cellSize` metres on a W×H grid centred on `origin` (or on the first
// fix); each cell holds the count (or summed speed) of the last `window` seconds, kept as one bucket per
// `slide`. At every slide boundary Gi* is computed for every cell with a square band of k cells around it
// (k = floor(band / cellSize)), using a summed-area table so each cell costs four lookups, not (2k+1)².
import { badCoordinates, colLat, colLon, colSpeed, colT, fail, jsonNumber, Output } from './abi';
import { M_PER_DEG, metresPerDegLon } from './geo';
import { giStarZ, giZ, StarMoments } from './getis-ord';
export { abi_version, alloc, error_len, error_ptr, free } from './abi';

const KIND_HOT: u32 = 1;
const KIND_COOLED: u32 = 2;

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
let current: i64 = -1;

let skipped: u32 = 0;
let outside: u32 = 0;
let late: u32 = 0;
const out = new Output();

export function init(ptr: usize, len: i32): i32 {
  const json = String.UTF8.decodeUnsafe(ptr, len);
  cellSize = jsonNumber(json, 'cellSize', 250);
  if (!(cellSize > 0)) return fail('cellSize must be a positive number of metres');
  const band = jsonNumber(json, 'band', cellSize);
  if (!(band >= 0)) return fail('band must be zero or more metres');
  k = <i32>Math.floor(band / cellSize + 1e-9);
  const windowS = jsonNumber(json, 'window', 300);
  const slideS = jsonNumber(json, 'slide', 60);
  if (!(slideS > 0) || !(windowS >= slideS)) return fail('need 0 < slide <= window (seconds)');
  slideMs = slideS * 1000;
  buckets = <i32>Math.ceil(windowS / slideS - 1e-9);
  zThreshold = jsonNumber(json, 'zThreshold', 2.58);
  minCount = <u32>jsonNumber(json, 'minCount', 5);
  weightBySpeed = jsonNumber(json, 'weightBySpeed', 0) != 0;
  W = <i32>jsonNumber(json, 'gridWidth', 256);
  H = <i32>jsonNumber(json, 'gridHeight', 256);
  if (W < 3 || H < 3 || W > 4096 || H > 4096) return fail('gridWidth and gridHeight must be between 3 and 4096 cells');
  originLon = jsonNumber(json, 'originLon', NaN);
  originLat = jsonNumber(json, 'originLat', NaN);
  if (!isNaN(originLat)) mPerDegLon = metresPerDegLon(originLat);
  const cells = W * H;
  bucketSum = new StaticArray<f64>(cells * buckets);
  bucketCount = new StaticArray<u32>(cells * buckets);
  winSum = new StaticArray<f64>(cells);
  winCount = new StaticArray<u32>(cells);
  hot = new StaticArray<u8>(cells);
  sat = new StaticArray<f64>((W + 1) * (H + 1));
  current = -1;
  skipped = outside = late = 0;
  out.lost = 0;
  return 0;
}

/** Bins a batch; returns how many events (hot and cooled cells at slide boundaries passed) it wrote. */
export function process(batch: usize, n: i32, outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
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
    if (current < 0) current = b;
    if (b <= current - buckets) {
      late++;
      continue;
    }
    while (current < b) advance();
    const ix = <i32>Math.floor(((lon - originLon) * mPerDegLon) / cellSize) + W / 2;
    const iy = <i32>Math.floor(((lat - originLat) * M_PER_DEG) / cellSize) + H / 2;
    if (ix < 0 || iy < 0 || ix >= W || iy >= H) {
      outside++;
      continue;
    }
    const cell = iy * W + ix;
    const slot = <i32>(b % buckets) * W * H + cell;
    unchecked((bucketSum[slot] += value));
    unchecked((bucketCount[slot] += 1));
    unchecked((winSum[cell] += value));
    unchecked((winCount[cell] += 1));
  }
  return out.n;
}

/** Closes the current slide: scores the window that ends here, then drops its oldest bucket. */
function advance(): void {
  score(<f64>(current + 1) * slideMs);
  current++;
  const base = <i32>(current % buckets) * W * H;
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

/** Gi* for every cell of the current window; writes hot and cooled events. */
function score(windowEnd: f64): void {
  const cells = W * H;
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
  const n = <f64>cells;
  const mean = sum / n;
  const flat = sumSq / n - mean * mean <= 1e-12;
  const m = new StarMoments(sum, sumSq, n);
  for (let y = 0; y < H; y++) {
    const y0 = max(0, y - k);
    const y1 = min(H - 1, y + k);
    for (let x = 0; x < W; x++) {
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
        isHot = z >= zThreshold;
      }
      if (isHot) emit(windowEnd, z, c, KIND_HOT);
      else if (unchecked(hot[c])) emit(windowEnd, z, c, KIND_COOLED);
      unchecked((hot[c] = isHot ? 1 : 0));
    }
  }
}

/** Event columns at outPtr: windowEnd f64[cap] · z f64[cap] · cell u32[cap] · count u32[cap] · kind u32[cap]. */
function emit(windowEnd: f64, z: f64, cell: i32, kind: u32): void {
  const row = out.next();
  if (row < 0) return;
  const cap = <usize>out.cap;
  const i = <usize>row;
  store<f64>(out.ptr + (i << 3), windowEnd);
  store<f64>(out.ptr + cap * 8 + (i << 3), z);
  store<u32>(out.ptr + cap * 16 + (i << 2), <u32>cell);
  store<u32>(out.ptr + cap * 20 + (i << 2), unchecked(winCount[cell]));
  store<u32>(out.ptr + cap * 24 + (i << 2), kind);
}

/** Forces the current window to be scored now (end of input); returns the events written. */
export function flush(outPtr: usize, cap: i32): i32 {
  out.begin(outPtr, cap);
  if (current >= 0) advance();
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

export function origin_lon(): f64 { return originLon; }
export function origin_lat(): f64 { return originLat; }
export function grid_width(): i32 { return W; }
export function grid_height(): i32 { return H; }
export function cell_size(): f64 { return cellSize; }
/** fixes skipped: bad coordinates, outside the grid, older than the window */
export function skipped_count(): u32 { return skipped; }
export function outside_count(): u32 { return outside; }
export function late_count(): u32 { return late; }
export function lost_event_count(): u32 { return out.lost; }
