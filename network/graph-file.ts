import { FrameError } from '../codecs/frame-error.ts';
import type { RoadGraph } from './road-graph.ts';

/**
 * The road graph as one binary file (and the same bytes handed to a kernel): a header of counts, then each
 * array in the RoadGraph's field order, 8-byte aligned. Little-endian.
 *   "GFRG" u32:version u32:nodes u32:edges u32:points u32:0  then the arrays
 */
const MAGIC = 0x47524647; // "GFRG"
const VERSION = 1;
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

export function encodeGraph(g: RoadGraph): Uint8Array {
  let size = 24;
  for (const f of FIELDS) size = align8(size) + g[f].byteLength;
  const out = new Uint8Array(align8(size));
  const v = new DataView(out.buffer);
  [MAGIC, VERSION, g.nodeLon.length, g.edgeFrom.length, g.pointLon.length, 0].forEach((x, i) => v.setUint32(i * 4, x, true));
  let at = 24;
  for (const f of FIELDS) {
    at = align8(at);
    out.set(new Uint8Array(g[f].buffer, g[f].byteOffset, g[f].byteLength), at);
    at += g[f].byteLength;
  }
  return out;
}

export function decodeGraph(bytes: Uint8Array): RoadGraph {
  const bad = (why: string) => new FrameError('bad-batch', `road graph file: ${why}`);
  if (bytes.length < 24) throw bad('shorter than its header');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) throw bad('not a geoflux road graph');
  if (v.getUint32(4, true) !== VERSION) throw bad(`version ${v.getUint32(4, true)} is not ${VERSION}`);
  const count = { n: v.getUint32(8, true), e: v.getUint32(12, true), e1: v.getUint32(12, true) + 1, p: v.getUint32(16, true) };
  const src = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const g = {} as Record<Field, unknown>;
  let at = 24;
  for (const f of FIELDS) {
    const [T, k] = KINDS[f];
    at = align8(at);
    const len = count[k] * T.BYTES_PER_ELEMENT;
    if (at + len > src.length) throw bad(`cut short in ${f}`);
    g[f] = new T(src.buffer as ArrayBuffer, src.byteOffset + at, count[k]);
    at += len;
  }
  return g as unknown as RoadGraph;
}
