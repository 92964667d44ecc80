import { adjacency, type Adjacency } from './adjacency.ts';
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
  private heapNode = new Uint32Array(1024);
  private heapKey = new Float64Array(1024);
  private size = 0;

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
    const { dist, via, stamp, out, g } = this;
    this.size = 0;
    dist[from] = 0;
    via[from] = -1;
    stamp[from] = q;
    this.push(from, 0);
    while (this.size > 0) {
      const d = this.heapKey[0];
      const v = this.pop();
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
          this.push(w, nd);
        }
      }
    }
    if (stamp[to] !== q) return undefined;
    const path: number[] = [];
    for (let v = to; via[v] >= 0; v = g.edgeFrom[via[v]]) path.push(via[v]);
    return path.reverse();
  }

  private push(node: number, key: number): void {
    if (this.size === this.heapNode.length) {
      const [n, k] = [new Uint32Array(this.size * 2), new Float64Array(this.size * 2)];
      n.set(this.heapNode);
      k.set(this.heapKey);
      [this.heapNode, this.heapKey] = [n, k];
    }
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.heapKey[p] <= key) break;
      this.heapNode[i] = this.heapNode[p];
      this.heapKey[i] = this.heapKey[p];
      i = p;
    }
    this.heapNode[i] = node;
    this.heapKey[i] = key;
  }

  private pop(): number {
    const top = this.heapNode[0];
    const last = --this.size;
    const node = this.heapNode[last];
    const key = this.heapKey[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && this.heapKey[c + 1] < this.heapKey[c]) c++;
      if (this.heapKey[c] >= key) break;
      this.heapNode[i] = this.heapNode[c];
      this.heapKey[i] = this.heapKey[c];
      i = c;
    }
    this.heapNode[i] = node;
    this.heapKey[i] = key;
    return top;
  }
}
