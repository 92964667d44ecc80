// Route distances: a Dijkstra search from one node, bounded, that stops once its target nodes are settled.
import { MinHeap } from '../geo';
import { len, outEdge, outStart, to } from './graph';
import { MAX_K } from './params';

let dist = new StaticArray<f64>(0);
/** the edge a settled node was reached by */
export let via = new StaticArray<i32>(0);
/** the first edge of the path to a settled node (-1 for the source): a path that starts by turning back is a U-turn */
let first = new StaticArray<i32>(0);
let seen = new StaticArray<u32>(0);
let done = new StaticArray<u32>(0);
let heap = new MinHeap(0);
let search: u32 = 0;
let source: i32 = -1;
export let settledCount: u64 = 0;
export function setSettled(n: u64): void { settledCount = n; }

export const targets = new StaticArray<i32>(MAX_K);
export let targetCount: i32 = 0;

export function resetRoutes(nodes: i32, edges: i32): void {
  dist = new StaticArray<f64>(nodes);
  via = new StaticArray<i32>(nodes);
  first = new StaticArray<i32>(nodes);
  seen = new StaticArray<u32>(nodes);
  done = new StaticArray<u32>(nodes);
  // one entry per relaxation at most: every edge once, and the source
  heap = new MinHeap(edges + 2);
  search = 0;
}

export function clearTargets(): void { targetCount = 0; }

export function addTarget(n: i32): void {
  for (let i = 0; i < targetCount; i++) if (unchecked(targets[i]) == n) return;
  targets[targetCount++] = n;
}

/** Settles nodes from `src` until every target is settled or the next is farther than `limit`. */
export function dijkstra(src: i32, limit: f64): void {
  search++;
  source = src;
  heap.clear();
  seen[src] = search;
  dist[src] = 0;
  via[src] = -1;
  first[src] = -1;
  heap.push(0, src);
  let left = targetCount;
  while (heap.size > 0) {
    const d = heap.topKey();
    const u = heap.topValue();
    heap.pop();
    if (done[u] == search) continue;
    if (d > limit) break;
    done[u] = search;
    settledCount++;
    for (let i = 0; i < targetCount; i++) if (unchecked(targets[i]) == u) left--;
    if (left <= 0) break;
    for (let j = outStart[u]; j < outStart[u + 1]; j++) {
      const e = <i32>outEdge[j];
      const v = to(e);
      const nd = d + len(e);
      if (nd > limit || done[v] == search) continue;
      if (seen[v] != search || nd < dist[v]) {
        seen[v] = search;
        dist[v] = nd;
        via[v] = e;
        first[v] = u == src ? e : first[u];
        heap.push(nd, v);
      }
    }
  }
}

/** metres from the last search's source to node n, Infinity if the search did not settle it */
@inline export function settled(n: i32): f64 { return done[n] == search ? dist[n] : Infinity; }

/** the first edge of the last search's path to settled node n (-1: n is the source) */
@inline export function firstEdge(n: i32): i32 { return n == source ? -1 : first[n]; }
