import { adjacency, type Adjacency } from './adjacency.ts';
import { MinHeap } from './geo.ts';
import type { RoadGraph } from './road-graph.ts';

/**
 * Point-to-point Dijkstra over a per-edge cost (seconds or metres), with a binary heap and arrays stamped
 * per query, so a fleet re-routing thousands of times a minute allocates nothing but its answers.
 */
export class ShortestPaths {
  private readonly out: Adjacency;
  private readonly dist: Float64Array;
  private readonly via: Int32Array;
  private readonly stamp: Uint32Array;
  private query = 0;
  private readonly heap = new MinHeap();

  constructor(
    private readonly g: RoadGraph,
    private readonly cost: ArrayLike<number>,
  ) {
    this.out = adjacency(g, 'out');
    const n = g.nodeLon.length;
    this.dist = new Float64Array(n);
    this.via = new Int32Array(n);
    this.stamp = new Uint32Array(n);
  }

  /** the edges of a cheapest path from node `from` to node `to` (empty when they are the same), or undefined if there is none */
  route(from: number, to: number): number[] | undefined {
    const q = ++this.query;
    const { dist, via, stamp, out, g, heap } = this;
    heap.clear();
    dist[from] = 0;
    via[from] = -1;
    stamp[from] = q;
    heap.push(0, from);
    while (heap.size > 0) {
      const d = heap.topKey();
      const v = heap.pop();
      if (d > dist[v]) continue;
      if (v === to) break;
      for (let j = out.start[v]; j < out.start[v + 1]; j++) {
        const e = out.edges[j];
        const w = g.edgeTo[e];
        const nd = d + this.cost[e];
        if (stamp[w] !== q || nd < dist[w]) {
          stamp[w] = q;
          dist[w] = nd;
          via[w] = e;
          heap.push(nd, w);
        }
      }
    }
    if (stamp[to] !== q) return undefined;
    const path: number[] = [];
    for (let v = to; via[v] >= 0; v = g.edgeFrom[via[v]]) path.push(via[v]);
    return path.reverse();
  }
}
