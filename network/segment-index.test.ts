import { describe, expect, it } from 'vitest';
import { loadNetwork } from './load-network.ts';
import { edgeCount } from './road-graph.ts';
import { nearestEdges } from './segment-index.ts';

describe('segment index', () => {
  it('finds the same nearest road positions as a scan of every segment', async () => {
    const { graph: g, index: ix } = await loadNetwork('../shared/data/osm/monaco.osm.pbf');
    let seed = 3;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const everything = { ...ix, w: 1, h: 1, cellStart: Uint32Array.of(0, ix.segEdge.length), cellLon: 1, cellLat: 1 };
    let found = 0;
    for (let i = 0; i < 200; i++) {
      const lon = 7.41 + rand() * 0.03;
      const lat = 43.725 + rand() * 0.025;
      const fast = nearestEdges(g, ix, lon, lat, 50, 4);
      const slow = nearestEdges(g, everything, lon, lat, 50, 4);
      expect(fast.map((p) => [p.edge, p.distance.toFixed(6)])).toEqual(slow.map((p) => [p.edge, p.distance.toFixed(6)]));
      found += fast.length;
    }
    expect(found).toBeGreaterThan(200); // most points in central Monaco are within 50 m of a road
    expect(edgeCount(g)).toBeGreaterThan(0);
  });

  it('measures the offset along the edge and the snapped position', async () => {
    const { graph: g, index: ix } = await loadNetwork('../shared/data/mapmatch-kubicka/00000000');
    const e = 100;
    const [a, b] = [g.pointStart[e], g.pointStart[e] + 1];
    const mid = [(g.pointLon[a] + g.pointLon[b]) / 2, (g.pointLat[a] + g.pointLat[b]) / 2];
    const hit = nearestEdges(g, ix, mid[0], mid[1], 5, 10).find((p) => p.edge === e)!;
    expect(hit.distance).toBeLessThan(0.01);
    expect(hit.offset).toBeCloseTo(g.edgeLength[e] / 2, 0);
  });
});
