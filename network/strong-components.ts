import { adjacency } from './adjacency.ts';
import type { RoadGraph } from './road-graph.ts';

/**
 * The nodes of the largest strongly connected component: a clipped extract has one-way stubs and dead ends
 * at its border, and a vehicle routed from any of these nodes to any other always finds a way back.
 * Kosaraju's two passes, both iterative (Monaco's longest path would overflow a recursive DFS's stack).
 */
export function largestComponent(g: RoadGraph): Uint32Array {
  const n = g.nodeLon.length;
  const out = adjacency(g, 'out');
  const inn = adjacency(g, 'in');
  const order = new Uint32Array(n);
  let done = 0;
  const seen = new Uint8Array(n);
  const stack = new Uint32Array(n);
  const cursor = new Uint32Array(n);
  for (let root = 0; root < n; root++) {
    if (seen[root]) continue;
    let sp = 0;
    stack[sp++] = root;
    seen[root] = 1;
    cursor[root] = out.start[root];
    while (sp > 0) {
      const v = stack[sp - 1];
      if (cursor[v] < out.start[v + 1]) {
        const w = g.edgeTo[out.edges[cursor[v]++]];
        if (!seen[w]) {
          seen[w] = 1;
          cursor[w] = out.start[w];
          stack[sp++] = w;
        }
      } else order[done++] = stack[--sp];
    }
  }
  const comp = new Int32Array(n).fill(-1);
  let best = -1;
  let bestSize = 0;
  for (let i = n - 1, c = 0; i >= 0; i--) {
    const root = order[i];
    if (comp[root] >= 0) continue;
    let sp = 0;
    let size = 0;
    stack[sp++] = root;
    comp[root] = c;
    while (sp > 0) {
      const v = stack[--sp];
      size++;
      for (let j = inn.start[v]; j < inn.start[v + 1]; j++) {
        const w = g.edgeFrom[inn.edges[j]];
        if (comp[w] < 0) {
          comp[w] = c;
          stack[sp++] = w;
        }
      }
    }
    if (size > bestSize) [best, bestSize] = [c, size];
    c++;
  }
  const nodes = new Uint32Array(bestSize);
  for (let v = 0, k = 0; v < n; v++) if (comp[v] === best) nodes[k++] = v;
  return nodes;
}
