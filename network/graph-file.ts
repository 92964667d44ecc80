import { FrameError } from '../codecs/frame-error.ts';
import type { RoadGraph } from './road-graph.ts';
import type { SegmentIndex } from './segment-index.ts';

/**
 * The road graph and its segment index as one binary file (and the same bytes handed to a kernel): a header
 * of counts, each graph array in the RoadGraph's field order, then the index, all 8-byte aligned,
 * little-endian.
 *   "GFRG" u32:version u32:nodes u32:edges u32:points u32:indexRefs
 *   graph arrays · f64 minLon, minLat, cellLon, cellLat · u32 w, h · u32 cellStart[w·h+1] · u32 segEdge[refs] · u32 segPoint[refs]
 */
const MAGIC = 0x47524647; // "GFRG"
const VERSION = 2;
const FIELDS = ['nodeLon', 'nodeLat', 'edgeFrom', 'edgeTo', 'edgeWay', 'edgeClass', 'edgeSpeed', 'edgeLength', 'pointStart', 'pointLon', 'pointLat'] as const;
type Field = (typeof FIELDS)[number];
const KINDS: Record<Field, [typeof Float64Array | typeof Uint32Array | typeof Uint8Array | typeof Float32Array, 'n' | 'e' | 'e1' | 'p']> = {
  nodeLon: [Float64Array, 'n'],
  nodeLat: [Float64Array, 'n'],
  edgeFrom: [Uint32Array, 'e'],
  edgeTo: [Uint32Array, 'e'],
  edgeWay: [Float64Array, 'e'],
  edgeClass: [Uint8Array, 'e'],
  edgeSpeed: [Float32Array, 'e'],
  edgeLength: [Float32Array, 'e'],
  pointStart: [Uint32Array, 'e1'],
  pointLon: [Float64Array, 'p'],
  pointLat: [Float64Array, 'p'],
};
const align8 = (x: number) => (x + 7) & ~7;

export function encodeGraph(g: RoadGraph, ix: SegmentIndex): Uint8Array {
  const arrays: ArrayBufferView[] = [...FIELDS.map((f) => g[f]), Float64Array.of(ix.minLon, ix.minLat, ix.cellLon, ix.cellLat), Uint32Array.of(ix.w, ix.h), ix.cellStart, ix.segEdge, ix.segPoint];
  let size = 24;
  for (const a of arrays) size = align8(size) + a.byteLength;
  const out = new Uint8Array(align8(size));
  const v = new DataView(out.buffer);
  [MAGIC, VERSION, g.nodeLon.length, g.edgeFrom.length, g.pointLon.length, ix.segEdge.length].forEach((x, i) => v.setUint32(i * 4, x, true));
  let at = 24;
  for (const a of arrays) {
    at = align8(at);
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

export function decodeGraph(bytes: Uint8Array): { graph: RoadGraph; index: SegmentIndex } {
  const bad = (why: string) => new FrameError('bad-batch', `road graph file: ${why}`);
  if (bytes.length < 24) throw bad('shorter than its header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) throw bad('not a geoflux road graph');
  if (v.getUint32(4, true) !== VERSION) throw bad(`version ${v.getUint32(4, true)} is not ${VERSION}`);
  const count = { n: v.getUint32(8, true), e: v.getUint32(12, true), e1: v.getUint32(12, true) + 1, p: v.getUint32(16, true) };
  const refs = v.getUint32(20, true);
  const src = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  let at = 24;
  const take = <T extends ArrayBufferView>(C: new (b: ArrayBuffer, o: number, n: number) => T, per: number, n: number, what: string): T => {
    at = align8(at);
    if (at + n * per > src.length) throw bad(`cut short in ${what}`);
    const a = new C(src.buffer as ArrayBuffer, src.byteOffset + at, n);
    at += n * per;
    return a;
  };
  const g = {} as Record<Field, unknown>;
  for (const f of FIELDS) {
    const [T, k] = KINDS[f];
    g[f] = take(T as never, T.BYTES_PER_ELEMENT, count[k], f);
  }
  const [minLon, minLat, cellLon, cellLat] = take(Float64Array, 8, 4, 'index header');
  const [w, h] = take(Uint32Array, 4, 2, 'index header');
  const index: SegmentIndex = {
    minLon,
    minLat,
    cellLon,
    cellLat,
    w,
    h,
    cellStart: take(Uint32Array, 4, w * h + 1, 'index cells'),
    segEdge: take(Uint32Array, 4, refs, 'index'),
    segPoint: take(Uint32Array, 4, refs, 'index'),
  };
  return { graph: g as unknown as RoadGraph, index };
}
