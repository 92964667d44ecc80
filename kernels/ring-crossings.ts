/**
 * Where a polygon ring crosses itself, if it does. Geofence containment is even-odd, so a self-crossing
 * ring (a figure eight, a digitising slip) still gives answers, but not the ones its author meant; fence
 * compilation warns about it, naming the feature. Segments are swept in order of their west end, so a
 * ring of n points costs about n log n plus the pairs whose x ranges overlap, not n².
 */
export function ringCrossing(coords: readonly number[], first: number, count: number): [number, number] | undefined {
  // a closed ring of count points has count - 1 segments; segment i runs from point i to point i + 1
  const n = count - 1;
  if (n < 4) return undefined;
  const x = (p: number) => coords[2 * (first + p)];
  const y = (p: number) => coords[2 * (first + p) + 1];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => Math.min(x(a), x(a + 1)) - Math.min(x(b), x(b + 1)));
  for (let oi = 0; oi < n; oi++) {
    const i = order[oi];
    const maxX = Math.max(x(i), x(i + 1));
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj];
      if (Math.min(x(j), x(j + 1)) > maxX) break;
      // neighbours share an end point (the last segment meets the first one)
      if (Math.abs(i - j) === 1 || Math.abs(i - j) === n - 1) continue;
      const hit = crossing(x(i), y(i), x(i + 1), y(i + 1), x(j), y(j), x(j + 1), y(j + 1));
      if (hit) return hit;
    }
  }
  return undefined;
}

/** the point where segments ab and cd cross (touching ends count), or undefined */
function crossing(ax: number, ay: number, bx: number, by: number, cx: number, cy: number, dx: number, dy: number): [number, number] | undefined {
  const d = (bx - ax) * (dy - cy) - (by - ay) * (dx - cx);
  if (d === 0) return undefined; // parallel: a ring retracing itself is not what this looks for
  const t = ((cx - ax) * (dy - cy) - (cy - ay) * (dx - cx)) / d;
  const u = ((cx - ax) * (by - ay) - (cy - ay) * (bx - ax)) / d;
  return t >= 0 && t <= 1 && u >= 0 && u <= 1 ? [ax + t * (bx - ax), ay + t * (by - ay)] : undefined;
}
