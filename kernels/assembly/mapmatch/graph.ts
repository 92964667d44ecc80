// The road graph, read in place from the graph file's bytes (network/graph-file.ts, version 2), and what
// the kernel builds from it at load: out-edges per node, and metres along its edge at each shape point.
import { fail } from '../abi';
import { haversine } from '../geo';

export let nodeCount: i32 = 0;
export let edgeCount: i32 = 0;
let edgeFrom: usize = 0;
let edgeTo: usize = 0;
let edgeLength: usize = 0;
let pointStart: usize = 0;
let pointLon: usize = 0;
let pointLat: usize = 0;
// the segment grid: which (edge, shape point) segments cross each cell
export let ixMinLon: f64 = 0;
export let ixMinLat: f64 = 0;
export let ixCellLon: f64 = 1;
export let ixCellLat: f64 = 1;
export let ixW: i32 = 0;
export let ixH: i32 = 0;
let cellStart: usize = 0;
let segEdge: usize = 0;
let segPoint: usize = 0;
export let outStart = new StaticArray<u32>(0);
export let outEdge = new StaticArray<u32>(0);
let pointCum = new StaticArray<f64>(0);

@inline export function from(e: i32): i32 { return <i32>load<u32>(edgeFrom + (<usize>e << 2)); }
@inline export function to(e: i32): i32 { return <i32>load<u32>(edgeTo + (<usize>e << 2)); }
@inline export function len(e: i32): f64 { return <f64>load<f32>(edgeLength + (<usize>e << 2)); }
/** the edge's first shape point; its last is pStart(e + 1) − 1 */
@inline export function pStart(e: i32): i32 { return <i32>load<u32>(pointStart + (<usize>e << 2)); }
@inline export function pLon(p: i32): f64 { return load<f64>(pointLon + (<usize>p << 3)); }
@inline export function pLat(p: i32): f64 { return load<f64>(pointLat + (<usize>p << 3)); }
/** metres along its edge to shape point p */
@inline export function pCum(p: i32): f64 { return unchecked(pointCum[p]); }
@inline export function cellFirst(c: i32): u32 { return load<u32>(cellStart + (<usize>c << 2)); }
@inline export function segmentEdge(j: u32): i32 { return <i32>load<u32>(segEdge + (<usize>j << 2)); }
@inline export function segmentPoint(j: u32): i32 { return <i32>load<u32>(segPoint + (<usize>j << 2)); }

/** Takes the graph file's bytes, checks every index the searches will follow, and keeps reading them in place. */
export function loadGraph(ptr: usize, size: i32): i32 {
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
  nodeCount = n;
  edgeCount = e;
  edgeFrom = starts[2];
  edgeTo = starts[3];
  edgeLength = starts[7];
  pointStart = starts[8];
  pointLon = starts[9];
  pointLat = starts[10];
  for (let i = 0; i < e; i++) {
    if (<u32>from(i) >= <u32>n || <u32>to(i) >= <u32>n) return fail('road graph: edge ' + i.toString() + ' names a node that does not exist');
    if (pStart(i) < 0 || pStart(i) > pStart(i + 1) || pStart(i + 1) - pStart(i) < 2) return fail('road graph: edge ' + i.toString() + ' has a bad shape');
  }
  if (<u32>pStart(e) > <u32>p) return fail('road graph: shape points out of range');
  const cells = ixW * ixH;
  for (let c = 0; c < cells; c++) if (cellFirst(c) > cellFirst(c + 1)) return fail('road graph: bad segment index');
  if (cellFirst(cells) > refs) return fail('road graph: bad segment index');
  for (let j: u32 = 0; j < refs; j++) {
    const se = <u32>segmentEdge(j);
    const sp = <u32>segmentPoint(j);
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
  return 0;
}

/** where pointAt() put its point */
export let atLon: f64 = 0;
export let atLat: f64 = 0;

/** the point `off` metres along edge e (clamped to the edge), in atLon/atLat */
export function pointAt(e: i32, off: f64): void {
  let lo = pStart(e);
  let hi = pStart(e + 1) - 1;
  if (!(off > 0)) {
    atLon = pLon(lo);
    atLat = pLat(lo);
    return;
  }
  // the shape segment [lo, lo + 1] holding the offset
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pCum(mid) <= off) lo = mid;
    else hi = mid;
  }
  const span = pCum(hi) - pCum(lo);
  const f = span > 0 ? Math.min(1, (off - pCum(lo)) / span) : 0;
  atLon = pLon(lo) + f * (pLon(hi) - pLon(lo));
  atLat = pLat(lo) + f * (pLat(hi) - pLat(lo));
}
