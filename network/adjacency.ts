import type { RoadGraph } from './road-graph.ts';

/** Edges by node in CSR form: the edges leaving (or, `in`, entering) node n are `edges[start[n] .. start[n + 1])`. */
export interface Adjacency {
  start: Uint32Array;
  edges: Uint32Array;
}

export function adjacency(g: RoadGraph, direction: 'out' | 'in' = 'out'): Adjacency {
  const key = direction === 'out' ? g.edgeFrom : g.edgeTo;
  const n = g.nodeLon.length;
  const start = new Uint32Array(n + 1);
  for (let e = 0; e < key.length; e++) start[key[e] + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n);
  const edges = new Uint32Array(key.length);
  for (let e = 0; e < key.length; e++) edges[fill[key[e]]++] = e;
  return { start, edges };
}
